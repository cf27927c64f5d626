"""A local sweep's state: one JSON file in the sweep folder, safe for many processes at once.

``sweep-state.json`` holds the sweep config the trials run, how many trials the sweep has
in all, the machine's overrides, and every trial: its values, status, owner, run folder
and metric history. Every change is made under an exclusive ``flock`` on
``sweep-state.lock`` (read, change, write a temporary file, fsync, ``os.replace``), so
several sweep processes on one machine, or SLURM array tasks on a shared file system, can
claim trials without losing or repeating one, and a kill at any moment leaves either the
old file or the new one. (On NFS, Linux maps ``flock`` to NFS locks; Lustre needs the
``flock`` mount option.)

A trial's *owner* is the sweep process that runs it. A running trial whose owner is gone
(its pid is dead on the same host, it is the stale claim of a SLURM task that has since
restarted, or it has not been heard of for :data:`STALE_SECONDS`) is taken over by the next
sweep process, and continued from its checkpoint.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Generator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from dlconf.errors import ConfigError
from dlconf.runner.run_folder import storage_error

STATE_FILE = "sweep-state.json"
LOCK_FILE = "sweep-state.lock"
STATE_VERSION = 1
STALE_SECONDS = 600.0
"""A claim from another host not renewed for this long is taken to be dead."""

Status = Literal["running", "finished", "failed", "stopped"]


@dataclass
class Owner:
    """The sweep process that runs a trial, and when it last said so."""

    host: str
    pid: int
    started: str | None = None
    """The process's start time (Linux ``/proc``), so a reused pid is not taken for it."""
    slurm_job: str | None = None
    slurm_restart: int = 0
    heartbeat: float = 0.0

    @classmethod
    def here(cls) -> Owner:
        pid = os.getpid()
        return cls(
            host=socket.gethostname(),
            pid=pid,
            started=_process_start(pid),
            slurm_job=os.environ.get("SLURM_JOB_ID"),
            slurm_restart=int(os.environ.get("SLURM_RESTART_COUNT", "0") or 0),
            heartbeat=time.time(),
        )

    def is_me(self) -> bool:
        return self.host == socket.gethostname() and self.pid == os.getpid()

    def is_gone(self) -> bool:
        """Whether this owner can no longer be running its trials."""
        me = Owner.here()
        same_job = self.slurm_job is not None and self.slurm_job == me.slurm_job
        if same_job and self.slurm_restart < me.slurm_restart:
            return True  # this task was restarted since: the claim is of its earlier life
        if self.host == me.host:
            return not process_alive(self.pid, self.started)
        return time.time() - self.heartbeat > STALE_SECONDS


@dataclass
class TrialState:
    """One trial as the state file records it."""

    number: int
    values: dict[str, Any]
    status: Status = "running"
    owner: Owner | None = None
    child_pid: int | None = None
    """The trial's own process (the experiment), while one runs."""
    run_dir: str | None = None
    history: list[list[float]] = field(default_factory=lambda: [])
    """``[step, value]`` of the sweep's metric at each evaluation."""
    exit_code: int | None = None
    seconds: float = 0.0
    """Wall-clock seconds over all its starts."""
    spans: list[list[float]] = field(default_factory=lambda: [])
    """``[start, end]`` (Unix time) of each of its processes that has ended."""
    starts: int = 0
    """How many times a process ran it: 1, plus one per continuation."""
    stop_reason: str | None = None
    """Why it stopped before its budget (``step 10: early termination ...``), if it did."""
    command: list[str] = field(default_factory=lambda: [])
    """The command of its first start: what a W&B agent would run, plus this machine's
    overrides."""

    @property
    def metric(self) -> float | None:
        """The metric's value at its last evaluation."""
        return self.history[-1][1] if self.history else None

    @property
    def succeeded(self) -> bool:
        return self.status in ("finished", "stopped") and self.metric is not None

    @property
    def done(self) -> bool:
        return self.status != "running"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrialState:
        fields = dict(data)
        owner = fields.pop("owner", None)
        trial = cls(**fields)
        trial.owner = None if owner is None else Owner(**owner)
        return trial


@dataclass
class SweepState:
    """Everything a sweep process needs to continue the sweep."""

    config: dict[str, Any]
    """The W&B sweep config, as the trials run it."""
    count: int
    """How many trials the sweep runs in all (fewer when a grid runs out)."""
    overrides: list[str]
    """The machine's overrides, after the sampled values in every trial's command."""
    trials: list[TrialState] = field(default_factory=lambda: [])
    module: str = ""
    """The experiment's module, ``python -m <module>``."""
    seed: int = 0
    """Seeds the engine's random numbers before each proposal (with the trial's number), so
    a continued random or bayes sweep proposes what an uninterrupted one would."""
    version: int = STATE_VERSION

    @property
    def metric_name(self) -> str:
        return str(self.config["metric"]["name"])

    def trial(self, number: int) -> TrialState:
        return next(t for t in self.trials if t.number == number)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "config": self.config,
            "count": self.count,
            "overrides": self.overrides,
            "module": self.module,
            "seed": self.seed,
            "trials": [trial.to_json() for trial in self.trials],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SweepState:
        return cls(
            config=dict(data["config"]),
            count=int(data["count"]),
            overrides=[str(o) for o in data["overrides"]],
            trials=[TrialState.from_json(t) for t in data["trials"]],
            module=str(data["module"]),
            seed=int(data.get("seed", 0)),
            version=int(data.get("version", STATE_VERSION)),
        )


class StateFile:
    """The state file of the sweep folder ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / STATE_FILE

    def exists(self) -> bool:
        return self.path.is_file()

    @contextlib.contextmanager
    def locked(self) -> Generator[None]:
        """Hold the sweep's lock: no other process reads or writes the state meanwhile."""
        try:
            handle = (self.folder / LOCK_FILE).open("a")
        except OSError as error:
            raise storage_error(self.folder / LOCK_FILE, error) from None
        with handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    @contextlib.contextmanager
    def update(self) -> Generator[SweepState]:
        """Lock, read, let the block change the state, write it back; unlock."""
        self._check_exists()
        with self.locked():
            state = self._read()
            yield state
            self._write(state)

    def read(self) -> SweepState:
        self._check_exists()
        with self.locked():
            return self._read()

    def write_unlocked(self, state: SweepState) -> None:
        """Write ``state``; the caller holds :meth:`locked`."""
        self._write(state)

    def _check_exists(self) -> None:
        if not self.exists():
            raise ConfigError(
                f"{self.folder} is not a local sweep folder (no {STATE_FILE}): give the "
                "folder a local sweep printed, <experiments_root>/local_sweeps/<sweep>/<date>"
            )

    def _read(self) -> SweepState:
        try:
            data = json.loads(self.path.read_text())
            return SweepState.from_json(cast(dict[str, Any], data))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ConfigError(f"cannot read {self.path}: {error}") from None

    def _write(self, state: SweepState) -> None:
        # One temporary name per process: the lock makes it unnecessary, but a file system
        # that ignores locks must not let two writers share one temporary file.
        tmp = self.path.with_name(f".{STATE_FILE}.{socket.gethostname()}.{os.getpid()}.tmp")
        try:
            with tmp.open("w") as out:
                json.dump(state.to_json(), out, indent=1)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except OSError as error:
            tmp.unlink(missing_ok=True)
            raise storage_error(self.path, error) from None


def process_alive(pid: int, started: str | None = None) -> bool:
    """Whether process ``pid`` of this host runs (and, given ``started``, is that process)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: alive
    fields = _proc_stat(pid)
    if fields is None:
        return True  # no /proc (not Linux): the signal test is all there is
    if fields[0] in ("Z", "X"):
        return False  # exited, not yet reaped by its parent
    return started is None or fields[19] == started


def _process_start(pid: int) -> str | None:
    """The start time of ``pid`` in clock ticks since boot (Linux), else None."""
    fields = _proc_stat(pid)
    return None if fields is None else fields[19]


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` from the state on (field 3), else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after its ')' are plain.
    return stat.rpartition(")")[2].split()
