"""One way into a run: SLURM jobs, DDP under a sweep agent, divergence, the recorded command.

Each test runs the real command line on MNIST-format IDX files (tests/mnist_files.py), the
way a cluster job or an agent would, and checks folders, checkpoints, logs and messages.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from dlconf.callbacks.checkpoints import read_checkpoint
from dlconf.runner.run_folder import RunFolder
from tests.conftest import ROOT

SMALL = [
    "logger=tensorboard",
    "trainer.enable_progress_bar=false",
    "device.download_files=false",
    "params.encoder_layers=[64]",
    "params.decoder_layers=[64]",
    "params.batch_size=64",
    "eval_params.elbo.every=10 global_steps",
    "eval_params.elbo.n_samples=64",
    "eval_params.samples.every=1 day",
    "eval_params.reconstruction.every=1 day",
    "checkpoint.every=5 global_steps",
]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DEVICE_NAME" and not k.startswith("SLURM")}
    env.update(WANDB_MODE="offline", **extra)
    return env


def _vae(mnist_root: Path, runs: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "experiments.mnist_vae",
        f"device.data_root={mnist_root}",
        f"device.experiments_root={runs}",
        *SMALL,
        *extra,
    ]


def _run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=_env(**env), capture_output=True, text=True, timeout=600, check=False
    )


def _step(folder: RunFolder) -> int:
    return int(read_checkpoint(folder.last_checkpoint, weights_only=False)["global_step"])


def _weights(folder: RunFolder) -> dict[str, torch.Tensor]:
    state: dict[str, torch.Tensor] = read_checkpoint(folder.last_checkpoint)["state_dict"]
    return state


def _beta(folder: RunFolder) -> float:
    resolved = yaml.safe_load((folder.path / "resolved.yaml").read_text())
    return float(resolved["params"]["beta"])


def test_sequential_runs_in_one_slurm_job_each_get_a_folder_and_train_fully(
    mnist_root: Path, tmp_path: Path
) -> None:
    # `wandb agent --count 4` in one sbatch job: one SLURM_JOB_ID, no restart.
    runs = tmp_path / "runs"
    for beta in ("0.1", "0.9"):
        result = _run(
            _vae(mnist_root, runs, "train_for=20 global_steps", f"params.beta={beta}"),
            SLURM_JOB_ID="123",
        )
        assert result.returncode == 0, result.stderr[-3000:]
    first, second = RunFolder.all_under(runs)
    assert [_beta(first), _beta(second)] == [0.1, 0.9]
    assert _step(first) == _step(second) == 20
    assert first.run_id != second.run_id


def test_a_requeued_job_continues_its_own_folder_to_the_final_step(
    mnist_root: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    command = _vae(mnist_root, runs, "train_for=300 global_steps")
    process = subprocess.Popen(
        command, cwd=ROOT, env=_env(SLURM_JOB_ID="124"), stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        folders = RunFolder.all_under(runs)
        if folders and folders[0].last_checkpoint.is_file() and _step_or_0(folders[0]) >= 10:
            break
        assert process.poll() is None, process.communicate()[1][-3000:]
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)  # SLURM preempts the job...
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 143, stderr[-3000:]

    # ...and starts it again: the same job id, restart count 1, the same command.
    result = _run(command, SLURM_JOB_ID="124", SLURM_RESTART_COUNT="1")
    assert result.returncode == 0, result.stderr[-3000:]
    (folder,) = RunFolder.all_under(runs)
    assert _step(folder) == 300
    history = folder.history()
    assert [(e["resumed"], e["slurm_restart_count"]) for e in history] == [(False, 0), (True, 1)]


def _step_or_0(folder: RunFolder) -> int:
    try:
        return _step(folder)
    except Exception:
        return 0


def test_a_two_process_ddp_run_under_a_sweep_agent_makes_one_folder(
    mnist_root: Path, tmp_path: Path
) -> None:
    # An agent may pass only params.*, eval_params.*, train_for and seed: the DDP device
    # comes from DEVICE_NAME. Lightning appends hydra.run.dir=... and two more overrides
    # for rank 1; the agent guard must not refuse them.
    runs = tmp_path / "runs"
    result = _run(
        [
            sys.executable,
            "-m",
            "tests.ddp_agent_experiment",
            "train_for=20 global_steps",
            "params.encoder_layers=[64]",
            "params.decoder_layers=[64]",
            "eval_params.elbo.every=10 global_steps",
            "eval_params.elbo.n_samples=64",
            "eval_params.samples.every=1 day",
            "eval_params.reconstruction.every=1 day",
        ],
        WANDB_SWEEP_ID="sweep123",
        WANDB_RUN_ID="agentrun",  # the agent's id for this trial; W&B takes no other
        DEVICE_NAME="test-cpu-ddp",
        TEST_DATA_ROOT=str(mnist_root),
        TEST_EXPERIMENTS_ROOT=str(runs),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "refused" not in result.stderr
    (folder,) = RunFolder.all_under(runs)
    assert _step(folder) == 20
    (wandb_run,) = folder.wandb_dir.glob("offline-run-*")  # logged once, by rank 0
    assert wandb_run.name.endswith("-agentrun")
    assert folder.run_id == "agentrun"
    assert len(folder.history()) == 1  # only rank 0 records


def test_a_diverging_run_exits_3_with_one_line_and_finite_checkpoints(
    mnist_root: Path, tmp_path: Path
) -> None:
    # lr=1e30: the first update makes the weights huge, the next forward overflows, and
    # torch.distributions refuses the NaN `loc` before any loss is computed.
    runs = tmp_path / "runs"
    result = _run(
        _vae(
            mnist_root,
            runs,
            "train_for=20 global_steps",
            "params.lr=1e30",
            "checkpoint.every=1 global_steps",
        )
    )
    assert result.returncode == 3, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert line.startswith(
        "error: non-finite outputs of the model at global step 1 (a distribution's "
    )
    assert "its weights grew too large (the largest is 1e+30, in model." in line
    (folder,) = RunFolder.all_under(runs)
    assert all(bool(torch.isfinite(value).all()) for value in _weights(folder).values())


def test_the_recorded_command_reruns_the_run(mnist_root: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    first = _run(_vae(mnist_root, runs, "train_for=10 global_steps"))
    assert first.returncode == 0, first.stderr[-3000:]
    (folder,) = RunFolder.all_under(runs)
    command = shlex.split(folder.command_file.read_text())
    (entry,) = folder.history()
    assert command == entry["command"]
    assert command[:3] == ["python", "-m", "experiments.mnist_vae"]
    assert entry["cwd"] == str(ROOT)

    again = _run([sys.executable, *command[1:]])  # `python` of this environment
    assert again.returncode == 0, again.stderr[-3000:]
    original, rerun = RunFolder.all_under(runs)
    assert (rerun.path / "resolved.yaml").read_text() == (
        original.path / "resolved.yaml"
    ).read_text()
    for name, value in _weights(original).items():
        assert torch.equal(_weights(rerun)[name], value), name


def test_resuming_a_run_without_a_checkpoint_says_so_in_one_line(
    mnist_root: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    first = _run(_vae(mnist_root, runs, "train_for=5 global_steps"))
    assert first.returncode == 0, first.stderr[-3000:]
    (folder,) = RunFolder.all_under(runs)
    for path in folder.checkpoint_files():
        path.unlink()
    events = sorted(folder.tensorboard_dir.iterdir())

    result = _run([sys.executable, "-m", "experiments.mnist_vae", f"resume={folder.path}"])
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: resume={folder.path}: the run has no checkpoint to continue from (it stopped "
        "before its first save, or checkpoints/ was removed): run it anew with "
        + folder.command_file.read_text().strip()
    ]
    assert sorted(folder.tensorboard_dir.iterdir()) == events  # nothing logged again
    assert [entry["resumed"] for entry in folder.history()] == [False]


def test_a_damaged_last_checkpoint_falls_back_to_the_newest_readable_one(
    mnist_root: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    first = _run(
        _vae(mnist_root, runs, "train_for=20 global_steps", "checkpoint.monitor=ELBO/Validation")
    )
    assert first.returncode == 0, first.stderr[-3000:]
    (folder,) = RunFolder.all_under(runs)
    names = sorted(p.name for p in folder.checkpoint_files())
    assert names == ["best-20.ckpt", "last.ckpt"]
    data = folder.last_checkpoint.read_bytes()
    folder.last_checkpoint.write_bytes(data[: len(data) // 2])  # a disk that lost the end

    result = _run(
        [
            sys.executable,
            "-m",
            "experiments.mnist_vae",
            f"resume={folder.path}",
            "train_for=30 global_steps",
        ]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    output = result.stdout + result.stderr
    assert f"cannot read the checkpoint {folder.last_checkpoint}: " in output
    assert "using best-20.ckpt (step 20), the newest readable checkpoint" in output
    assert _step(folder) == 30
    history = json.loads(folder.record_file.read_text())
    assert [entry["resumed"] for entry in history] == [False, True]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("run.name=../../escape", "run.name='../../escape' names the run folder"),
        ("run.name=/etc", "run.name='/etc' names the run folder"),
        ("run.project=a b/c", "run.project='a b/c' names the run folder"),
        ("run.name=${oc.env:HOME}", "run.name='${oc.env:HOME}' names the run folder: give a"),
        # A link (an experiment's f"vae_{p.beta}" reads the same): swept values name folders.
        ("run.name=vae_${params.beta}", "run.name='vae_${params.beta}' names the run folder"),
    ],
)
def test_a_run_name_that_is_not_one_folder_name_is_refused(
    override: str, message: str, tmp_path: Path
) -> None:
    runs = tmp_path / "root" / "runs"
    result = _run(
        _vae(tmp_path / "nodata", runs, "data=synthetic", override, "train_for=1 global_steps")
    )
    assert result.returncode == 2, result.stderr[-3000:]
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {message}")
    assert not (tmp_path / "root").exists()
    assert not Path("/etc/My_First_VAE").exists()


def test_a_second_ctrl_c_stops_at_once(mnist_root: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    # Steps of a big batch through wide layers: a Ctrl-C lands inside a slow step.
    slow = ["params.encoder_layers=[1024,1024]", "params.decoder_layers=[1024,1024]"]
    process = subprocess.Popen(
        _vae(mnist_root, runs, "train_for=2000 global_steps", "params.batch_size=2048", *slow),
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while not any(_step_or_0(f) >= 5 for f in RunFolder.all_under(runs)):
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "no checkpoint in time"
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    # Two signals inside one long C call would reach Python's handler as one: the second
    # goes once the first is handled (its line is out), while the step still runs.
    assert process.stdout is not None
    for line in process.stdout:
        if "Ctrl-C: stopping after this step" in line:
            break
    process.send_signal(signal.SIGINT)  # impatient: no waiting for the step to finish
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGINT, stderr[-3000:]
    (folder,) = RunFolder.all_under(runs)
    assert 5 <= _step(folder) < 2000  # the last periodic checkpoint is intact


def test_two_srun_tasks_as_two_nodes_train_in_one_folder(mnist_root: Path, tmp_path: Path) -> None:
    # What `srun --nodes=2 --ntasks-per-node=1 python -m experiments.mnist_vae ...` starts:
    # one process per node, each told its rank by SLURM; here both nodes are this machine.
    runs = tmp_path / "runs"
    command = _vae(
        mnist_root,
        runs,
        "train_for=10 global_steps",
        "device.accelerator=cpu",
        "device.devices=1",
        "device.num_nodes=2",
        "device.strategy=ddp",
    )
    slurm = {
        "SLURM_JOB_ID": "555",
        "SLURM_STEP_ID": "0",
        "SLURM_NTASKS": "2",
        "SLURM_NTASKS_PER_NODE": "1",
        "SLURM_LOCALID": "0",
        "SLURM_NODELIST": "localhost",
        "SLURM_JOB_NAME": "train",
        "MASTER_PORT": "29561",
    }
    tasks = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=_env(**slurm, SLURM_PROCID=str(rank), SLURM_NODEID=str(rank)),
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in (0, 1)
    ]
    errors = [task.communicate(timeout=300)[1] for task in tasks]
    assert [task.returncode for task in tasks] == [0, 0], errors[0][-2000:] + errors[1][-2000:]
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in errors[1]  # two processes took part
    (folder,) = RunFolder.all_under(runs)
    assert _step(folder) == 10
    assert len(list(folder.tensorboard_dir.glob("events.out.tfevents.*"))) == 1
    assert [(e["slurm_job_id"], e["slurm_step_id"]) for e in folder.history()] == [("555", "0")]
