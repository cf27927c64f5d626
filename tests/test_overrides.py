"""The command line is read before anything is composed: flags anywhere, and every refused
or unparsable override is one line naming the key and what would be valid.

The table calls :func:`parse_command_line` in-process; the subprocess tests pin what a user
sees: exit code 2, exactly one line on stderr, no traceback, nothing written.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlconf.errors import ConfigError
from dlconf.runner.cli import _import_devices, check_command_line
from dlconf.runner.overrides import parse_command_line
from dlconf.runner.store import store_experiment
from experiments.mnist_vae import experiment

ROOT = Path(__file__).parents[1]


REFUSED: list[tuple[list[str], str]] = [
    # + / ++ / ~: dlconf's configs are closed schemas
    (["+params.beta=0.1"], "refused '+params.beta=0.1': no '+' needed"),
    (["++params.beta=0.1"], "write params.beta=0.1"),
    (["+params.new_key=1"], "write params.new_key=1 (a misspelt key is then named)"),
    (["~params.beta"], "refused '~params.beta': dlconf configs are closed schemas"),
    # code chosen from the command line (Hydra's blocklist would answer with a traceback)
    (["optimization.model._target_=os.remove"], "refused 'optimization.model._target_=os.remove'"),
    (["trainer._target_=shutil.rmtree"], "_target_ chooses what code runs"),
    (["optimization.model={_target_:os.remove}"], "change it there"),
    (["optimization._partial_=true"], "_partial_ chooses what code runs"),
    # Hydra's grammar, with the rule that was broken
    (["params.beta==1"], "use one '=' between key and value: params.beta=1"),
    (["params.beta=["], "a list is [1,2]: close the '['"),
    (["params.decoder_layers=[128,1024"], "a list is [1,2]"),
    (["params.beta={a:1"], "a dict is {a:1,b:2}"),
    (["run.name=héllo"], "quote the value: run.name='héllo' (in a shell: \"run.name='héllo'\")"),
    (["run.name=日本"], "quote the value: run.name='日本'"),
    (["run.name='mine"], "close the quote: run.name='mine'"),
    (["run.name=it's"], 'run.name="it\'s"'),
    (["run.name=a#b"], "a value with special characters is quoted: run.name='a#b'"),
    (["params.beta=${x"], "an interpolation is ${other.key}, closed with '}'"),
    (["params.beta"], "an override is key=value, e.g. params.beta=VALUE"),
    (["a b=1"], "'a b' is not a key"),
    # flags: one line instead of argparse's usage
    (["--cfg", "jbo"], "argument --cfg/-c: invalid choice: 'jbo'"),
    (["params.beta=1", "--frobnicate"], "unrecognized arguments: --frobnicate"),
]


@pytest.mark.quick
@pytest.mark.parametrize(("argv", "message"), REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_refused_override_is_one_line_naming_it_and_the_fix(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_command_line(["prog", *argv])
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code == 2


ACCEPTED: list[tuple[list[str], list[str], str | None, bool]] = [
    (["params.beta=1", "--cfg", "job", "seed=2"], ["params.beta=1", "seed=2"], "job", False),
    (["--cfg", "job", "params.beta=1"], ["params.beta=1"], "job", False),
    (["params.beta=0.1,1", "-m"], ["params.beta=0.1,1"], None, True),
    (
        ["-m", "params.beta=0.1,1", "--cfg=job", "seed=2"],
        ["params.beta=0.1,1", "seed=2"],
        "job",
        True,
    ),
    (["+hydra.job.env_set.X=1"], ["+hydra.job.env_set.X=1"], None, False),  # Hydra's is open
    (["run.name=my_target_run"], ["run.name=my_target_run"], None, False),
    (["run.name='héllo'"], ["run.name='héllo'"], None, False),
    (["resume=~/runs/x"], ["resume=~/runs/x"], None, False),  # a path, not Hydra grammar
    (["train_for=30 minutes"], ["train_for=30 minutes"], None, False),
]


@pytest.mark.quick
@pytest.mark.parametrize(
    ("argv", "overrides", "cfg", "multirun"), ACCEPTED, ids=[" ".join(a[0]) for a in ACCEPTED]
)
def test_flags_may_follow_the_overrides(
    argv: list[str], overrides: list[str], cfg: str | None, multirun: bool
) -> None:
    line = ["prog", *argv]
    args = parse_command_line(line)
    assert (args.overrides, args.cfg, args.multirun) == (overrides, cfg, multirun)
    # Hydra parses sys.argv again after us: what it gets must mean the same.
    assert line[: len(overrides) + 1] == ["prog", *overrides]


@pytest.mark.quick
def test_help_reads_no_overrides() -> None:
    assert parse_command_line(["prog", "params.beta==1", "--help"]).help


@pytest.fixture(scope="module")
def config_name() -> str:
    _import_devices()
    return store_experiment(experiment)


@pytest.mark.quick
@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train_for=${params.beta}", "train_for='0.5' is not a duration"),
        ("train_for=${oc.env:HOME}", "train_for='"),
        ("train_for=${run.name}", "train_for='My_First_VAE' is not a duration"),
        ("checkpoint.every=${seed}", "checkpoint.every='42' is not a duration"),
        # the experiment's own link: the fix belongs to the linked hyper-parameter
        ("eval_params.elbo.every=1 minuts", "eval_params.elbo.every='1 minuts'"),
    ],
)
def test_an_interpolated_duration_is_reported_under_its_key(
    config_name: str, override: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        check_command_line(config_name, [override], multirun=False)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)  # no "nothing stops training" after it


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DEVICE_NAME"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "experiments.mnist_vae", *args],
        cwd=cwd,  # an empty folder: anything written shows
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["+params.new_key=1"], "error: refused '+params.new_key=1': no '+' needed"),
        (["params.beta==1"], "error: cannot parse the override 'params.beta==1': use one '='"),
        (["run.name=héllo"], "error: cannot parse the override 'run.name=héllo': quote the value"),
        (["optimization.model._target_=os.remove"], "error: refused 'optimization.model._target_"),
        (["params.beta=0.1", "--cfg", "jbo"], "error: argument --cfg/-c: invalid choice: 'jbo'"),
    ],
    ids=["plus", "double equals", "non-ascii", "target", "bad flag"],
)
def test_command_line_refusal_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = _run([f"device.experiments_root={tmp_path / 'runs'}", *args], tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert list(tmp_path.iterdir()) == []


def test_cfg_job_after_the_overrides_prints_the_config(tmp_path: Path) -> None:
    result = _run(
        [f"device.experiments_root={tmp_path / 'runs'}", "params.beta=0.25", "--cfg", "job"],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "beta: 0.25" in result.stdout
    assert list(tmp_path.iterdir()) == []
