"""``--help`` and a misspelt key are answered from the cache exactly as the full path answers
them, only where nothing they depend on changed, and a valid command line never stops there.

Whether torch was imported tells the two paths apart: ``python -X importtime`` lists every
module a process imported.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hydra import initialize
from hydra.core.config_store import ConfigStore

from dlconf.errors import ConfigError, close_matches
from dlconf.runner import agent_guard, answer_cache
from dlconf.runner.answer_cache import (
    FULL_PATH_KEYS,
    plain_keys,
    unknown_key,
    unknown_key_message,
)
from dlconf.runner.cli import _base_config, _import_devices, compose_or_explain
from dlconf.runner.hydra_errors import key_tree
from dlconf.runner.store import GROUPS, store_experiment
from experiments.mnist_vae import experiment

ROOT = Path(__file__).parents[1]
MISSPELT = "params.bta=0.1"
MISSPELT_ERROR = (
    "error: unknown key 'params.bta' (did you mean 'params.beta'?); 'params' has: lr, "
    "batch_size, z_dim, encoder_layers, beta, decoder_layers\n"
)


def run(
    args: list[str], cache: Path, cwd: Path = ROOT, pythonpath: str = ""
) -> subprocess.CompletedProcess[str]:
    """``python -X importtime -m experiments.mnist_vae ARGS`` with its answers in ``cache``."""
    env = {k: v for k, v in os.environ.items() if k not in ("DEVICE_NAME", "PYTHONPATH")}
    env["XDG_CACHE_HOME"] = str(cache)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "experiments.mnist_vae", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )


def imported_torch(result: subprocess.CompletedProcess[str]) -> bool:
    return any(line.rpartition("|")[2].strip() == "torch" for line in result.stderr.splitlines())


def answer(result: subprocess.CompletedProcess[str]) -> tuple[int, str, str]:
    """What a user sees: the exit code, stdout, and stderr without the import times."""
    stderr = [line for line in result.stderr.splitlines(True) if not line.startswith("import ")]
    return result.returncode, result.stdout, "".join(stderr)


def age(folder: Path, seconds: float = 60) -> None:
    """Date every file and folder under ``folder`` back: as if written a while ago."""
    then = time.time() - seconds
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (then, then))


# Answered from the cache, in a fresh process.


def test_help_from_the_cache_is_the_full_paths_byte_for_byte(tmp_path: Path) -> None:
    full = run(["--help"], tmp_path)
    cached = run(["--help"], tmp_path)
    assert imported_torch(full) and not imported_torch(cached)
    assert answer(cached) == answer(full)
    assert full.returncode == 0 and "params.beta=0.5" in full.stdout
    short = run(["-h"], tmp_path)
    assert not imported_torch(short) and answer(short) == answer(full)


def test_a_misspelt_key_from_the_cache_is_the_full_paths_line_and_code(tmp_path: Path) -> None:
    full = run([MISSPELT, "trainer.max_epochs=3"], tmp_path)
    cached = run([MISSPELT, "trainer.max_epochs=3"], tmp_path)
    assert imported_torch(full) and not imported_torch(cached)
    assert answer(full) == answer(cached) == (2, "", MISSPELT_ERROR)

    # Another typo in the same tree, never typed before, is answered from it too.
    other = run(["parms.beta=1"], tmp_path)
    assert not imported_torch(other)
    assert other.returncode == 2
    assert answer(other)[2].startswith("error: unknown key 'parms' (did you mean 'params'")

    # A valid key takes the full path: here it ends at the data set that is not there.
    valid = run(["params.beta=0.3", f"device.data_root={tmp_path / 'none'}"], tmp_path)
    assert imported_torch(valid)
    assert "unknown key" not in valid.stderr
    assert "MNIST" in answer(valid)[2]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A copy of experiments/ to edit, run with this checkout's dlconf and devices."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "experiments", copy / "experiments")
    age(copy)
    yield copy


def test_an_edited_default_or_a_touched_file_is_never_answered_from_the_cache(
    tmp_path: Path, project: Path
) -> None:
    cache = tmp_path / "cache"
    first = run(["--help"], cache, project, str(ROOT))
    assert imported_torch(first)
    assert not imported_torch(run(["--help"], cache, project, str(ROOT)))

    module = project / "experiments" / "mnist_vae.py"
    text = module.read_text().replace("beta: float = 0.5", "beta: float = 0.75")
    printing = 'print("printed on import")\n\n\nclass Params('  # part of what --help prints
    module.write_text(text.replace("class Params(", printing))
    age(project)  # another mtime than the cached one, yet old enough to be remembered
    edited = run(["--help"], cache, project, str(ROOT))
    assert imported_torch(edited)
    assert "params.beta=0.75" in edited.stdout and "params.beta=0.5" not in edited.stdout
    assert edited.stdout.startswith("printed on import\n")
    again = run(["--help"], cache, project, str(ROOT))
    assert not imported_torch(again)
    assert answer(again) == answer(edited)

    configs = project / "experiments" / "mnist" / "configs.py"
    os.utime(configs, (time.time() - 30, time.time() - 30))  # same text, another mtime
    touched = run(["--help"], cache, project, str(ROOT))
    assert imported_torch(touched)
    assert answer(touched) == answer(edited)


def test_a_changed_environment_is_never_answered_from_the_cache(tmp_path: Path) -> None:
    assert run([MISSPELT], tmp_path).returncode == 2
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "DEVICE_NAME": "laptop"}
    env.pop("PYTHONPATH", None)
    laptop = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "experiments.mnist_vae", MISSPELT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert imported_torch(laptop)
    assert answer(laptop) == (2, "", MISSPELT_ERROR)


# What the cache answers, against the full path in this process.


@pytest.fixture(scope="module")
def config_name() -> str:
    _import_devices()
    return store_experiment(experiment)


MISTAKES = {
    "params.bta=1": True,
    "parms.beta=1": True,
    "params.bta.x=1": True,  # OmegaConf names the first missing part
    "trainer.max_epoch=3": True,
    "optimization.model.encoder.z_dm=3": True,
    "callbacks.x=1": True,
    "evaluation.ELBO.evaluation.n_sample=3": True,
    "eval_params.elbo.n_sample=1": True,
    "device.num_worker=2": True,
    "data.train.x=1": True,
    "logger.entty=1": True,
    # Below a value: the full path says what is wrong with the value.
    "params.beta.x=1": False,
    "seed.x=1": False,
    "trainer.plugins.x=1": False,
    "logger.entity.x=1": False,
}
"""Mistakes, and whether the cache answers them (else the full path does)."""


@pytest.mark.parametrize("override", MISTAKES)
def test_the_cache_says_what_the_full_path_says_or_leaves_it_to_it(
    config_name: str, override: str
) -> None:
    with initialize(version_base="1.3", config_path=None):
        with pytest.raises(ConfigError) as full:
            compose_or_explain(config_name, [override])
        tree = key_tree(_base_config(config_name))
    keys = plain_keys([override])
    assert keys is not None
    cached = unknown_key(keys[0], tree)
    assert cached == (str(full.value) if MISTAKES[override] else None)


@pytest.mark.quick
@pytest.mark.parametrize(
    "args",
    [
        ["--help", MISSPELT],
        [MISSPELT, "-m"],
        ["+params.bta=1"],
        ["~params.beta"],
        ["params.bta='1'"],
        ["params.bta=[1,2]"],
        ["params.bta=1,2"],
        ["params.bta=${seed}"],
        ["params.bta=héllo"],
        ["params.bta"],
        [MISSPELT, "params.beta=a b"],
        ["optimization._target_=os.remove"],
    ],
)
def test_only_plain_overrides_are_read_by_the_cache(args: list[str]) -> None:
    assert plain_keys(args) is None


@pytest.mark.quick
def test_groups_hydra_and_resume_anywhere_leave_the_answer_to_the_full_path() -> None:
    record = {"groups": list(GROUPS), "keys": {"params": {"beta": None}}}
    assert answer_cache._misspelt_key(["params.bta"], record) == unknown_key_message(
        "params.bta", ["beta"]
    )
    for late in ("data", "logger", "device", "hydra.job.name", "resume"):
        assert answer_cache._misspelt_key(["params.bta", late], record) is None


def test_every_stored_group_is_known_to_the_cache(config_name: str) -> None:
    stored = ConfigStore.instance().list("")
    groups = {name for name in stored if not name.endswith(".yaml")} - set(FULL_PATH_KEYS)
    assert groups == set(GROUPS)


@pytest.mark.quick
def test_the_cache_refuses_what_the_agent_guard_refuses() -> None:
    assert answer_cache.AGENT_ENV_VARS == agent_guard.AGENT_ENV_VARS
    assert answer_cache.INSTANTIATE_KEYWORDS == agent_guard.CONFIG_KEYWORDS


@pytest.mark.quick
def test_suggestions_are_dlconf_errors_own() -> None:
    for word, candidates in [
        ("bta", ["beta", "lr", "batch_size"]),
        ("max_epoch", ["max_epochs", "min_epochs", "max_steps", "x"]),
        ("zzz", ["beta"]),
        ("lr", []),
    ]:
        assert answer_cache.close_matches(word, candidates) == close_matches(word, candidates)


@pytest.mark.quick
def test_the_cache_loads_before_and_without_torch_hydra_or_dlconf() -> None:
    probe = (
        "import sys; sys.argv = ['-m', 'params.beta=1']; "
        "sys.orig_argv = [sys.executable, '-m', 'experiments.mnist_vae', 'params.beta=1']; "
        "import experiments; print(' '.join(sorted(sys.modules)))"
    )
    env = {**os.environ, "XDG_CACHE_HOME": "/nonexistent"}
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, env=env
    ).stdout.split()
    assert "dlconf.runner.answer_cache" in loaded
    assert not {"torch", "lightning", "hydra", "omegaconf", "dlconf", "typing"} & set(loaded)


@pytest.fixture
def loaded_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A module of this process's own, ``loaded_here``, and its answers under tmp_path."""
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "loaded_here.py").write_text("VALUE = 1\n")
    monkeypatch.setattr(sys, "path", [str(modules), *sys.path])
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    __import__("loaded_here")
    age(modules)  # its __pycache__ too
    yield modules / "loaded_here.py"
    del sys.modules["loaded_here"]


def started(*args: str) -> answer_cache.Startup:
    """This process, as if started with ``python -m experiments.mnist_vae ARGS`` now."""
    return answer_cache.Startup("experiments.mnist_vae", args)


@pytest.mark.quick
def test_an_answer_is_given_only_while_its_inputs_are_unchanged(
    monkeypatch: pytest.MonkeyPatch, loaded_here: Path
) -> None:
    assert answer_cache._answer(started(MISSPELT)) is None  # nothing remembered yet
    answer_cache._write(
        started(MISSPELT), "keys", {"keys": {"params": {"beta": None}}, "groups": []}
    )
    expected = (sys.stderr, "error: " + unknown_key_message("params.bta", ["beta"]) + "\n", 2)
    assert answer_cache._answer(started(MISSPELT)) == expected
    assert answer_cache._answer(started("params.beta=1")) is None

    monkeypatch.setenv("WANDB_SWEEP_ID", "abc")  # an agent's run checks its own way
    assert answer_cache._answer(started(MISSPELT)) is None
    monkeypatch.delenv("WANDB_SWEEP_ID")
    monkeypatch.setenv("DEVICE_NAME", "laptop")  # any other environment
    assert answer_cache._answer(started(MISSPELT)) is None
    monkeypatch.delenv("DEVICE_NAME")
    assert answer_cache._answer(started(MISSPELT)) == expected

    loaded_here.write_text("VALUE = 2\n")  # a file it came from
    assert answer_cache._answer(started(MISSPELT)) is None


@pytest.mark.quick
def test_nothing_is_remembered_from_a_file_that_just_changed(
    tmp_path: Path, loaded_here: Path
) -> None:
    startup = started(MISSPELT)
    loaded_here.write_text("VALUE = 3\n")  # while this process runs
    answer_cache._write(startup, "keys", {"keys": {"params": {}}, "groups": []})
    assert not (tmp_path / "cache").exists()
