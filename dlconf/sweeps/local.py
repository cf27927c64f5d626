"""A sweep on this machine, no W&B server: W&B's own engine proposes, the experiment runs.

Everything goes in one sweep folder, by default
``<device.experiments_root>/local_sweeps/<sweep>/<date>_<time>/``: ``sweep.yaml`` (the W&B
config the trials run), ``sweep-state.json`` (:mod:`dlconf.sweeps.state`: every trial's
values, status and metric history), one ``trial-N/`` experiments root and ``trial-N.log``
per trial, and the results (:mod:`dlconf.sweeps.results`).

The state makes a sweep survive: a sweep process killed at any moment is continued by the
next one started on the folder (``--resume``): finished trials are kept, a trial cut short
continues from its checkpoint, and the engine proposes the next trials from every result so
far. It also lets several sweep processes share the work: ``jobs`` trials at once in one
process, or one trial per SLURM array task, each claiming the next trial under the lock.
The sweep copies each running trial's metric history into the state as it grows; with
``early_terminate`` set, each trial puts its own to the engine's ``stop_runs`` with the
others' at each evaluation (:mod:`dlconf.callbacks.sweep_trial`), and one it names ends
there, normally (``last.ckpt``, exit 0), with status ``stopped``.
"""

from __future__ import annotations

import contextlib
import logging
import random
import signal
import subprocess
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy

from dlconf.errors import ConfigError
from dlconf.runner.run_folder import RunFolder, storage_error, write_atomic
from dlconf.sweeps import trials
from dlconf.sweeps.devices import CUDA_VISIBLE_DEVICES, visible_devices
from dlconf.sweeps.engine import Finished, next_values
from dlconf.sweeps.results import write_results
from dlconf.sweeps.state import (
    LOCK_FILE,
    STATE_FILE,
    Owner,
    StateFile,
    SweepState,
    TrialState,
    process_alive,
)

log = logging.getLogger(__name__)

LOCAL_SWEEPS_DIR = "local_sweeps"
SWEEP_YAML = "sweep.yaml"
POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 30.0
STOPPED_BY_SIGNAL = (130, 143)
"""Exit codes of a run stopped by Ctrl-C or SIGTERM: resumable, not failed."""


def new_folder(experiments_root: Path, sweep_name: str) -> Path:
    """A new, empty sweep folder under ``experiments_root``."""
    return RunFolder.create(experiments_root, LOCAL_SWEEPS_DIR, sweep_name).path


def latest_folder(experiments_root: Path, sweep_name: str) -> Path:
    """The newest sweep folder of ``sweep_name`` (for ``--resume last``)."""
    parent = experiments_root.expanduser() / LOCAL_SWEEPS_DIR / sweep_name
    folders = sorted(p.parent for p in parent.glob(f"*/{STATE_FILE}"))
    if not folders:
        raise ConfigError(f"--resume last: no local sweep of {sweep_name} under {parent}")
    return folders[-1]


def open_sweep(
    folder: Path,
    config: dict[str, Any],
    yaml_text: str,
    module: str,
    count: int | None,
    overrides: Sequence[str],
    seed: int | None = None,
) -> SweepState:
    """Start the sweep in ``folder``, or continue the one there (``count`` None: its own).

    Continuing is refused when the sweep definition or the machine's overrides changed:
    the trials so far would not be comparable with the next.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise storage_error(folder, error) from None
    file = StateFile(folder)
    # Checked before taking the lock, so a refused folder is left as it was; the sweep's
    # own files are not "other": another process may be writing them right now.
    own = {LOCK_FILE, STATE_FILE, SWEEP_YAML}
    others = sorted(
        p.name for p in folder.iterdir() if p.name not in own and not p.name.endswith(".tmp")
    )
    if not file.exists() and others:
        raise ConfigError(
            f"--folder {folder} holds other files ({', '.join(others[:3])}) and no local "
            "sweep: give a new or empty folder"
        )
    with file.locked():  # two array tasks starting together: one creates, one continues
        if not file.exists():
            if count is None:
                raise ConfigError(f"--resume {folder}: no local sweep there (no {STATE_FILE})")
            write_atomic(folder / SWEEP_YAML, yaml_text)
            chosen = random.randrange(2**31) if seed is None else seed
            state = SweepState(config, count, list(overrides), module=module, seed=chosen)
            file.write_unlocked(state)
            return state
    with file.update() as state:
        changed = sorted(
            k for k in {*config, *state.config} if config.get(k) != state.config.get(k)
        )
        if changed:
            raise ConfigError(
                f"the sweep in {folder} was started with another definition ({', '.join(changed)} "
                "differ): start a new sweep, or restore the definition to continue this one"
            )
        if overrides and list(overrides) != state.overrides:
            ran = " ".join(state.overrides) or "no overrides"
            raise ConfigError(
                f"the sweep in {folder} runs its trials with {ran}: continue it without "
                "overrides (or the same ones)"
            )
        if seed is not None and seed != state.seed:
            raise ConfigError(
                f"the sweep in {folder} runs with --engine-seed {state.seed}: continue it "
                "without --engine-seed (or with the same one)"
            )
        if count is not None:
            state.count = count
    return state


@dataclass
class _Child:
    number: int
    process: subprocess.Popen[bytes]
    log: IO[str]
    started: float
    started_at: float
    root: Path
    device: str | None
    reported: int = 0
    """How many evaluations of the metric the sweep has seen from it."""


@dataclass
class LocalRunner:
    """Runs trials of the sweep in ``folder`` until none is left to run here."""

    folder: Path
    jobs: int = 1
    max_trials: int | None = None
    """Most trials this process takes on (one per SLURM array task); None: no limit."""
    on_trial: Callable[[TrialState, SweepState], None] | None = None
    poll_seconds: float = POLL_SECONDS
    _children: dict[int, _Child] = field(default_factory=lambda: {})
    _taken: int = 0
    _next_heartbeat: float = 0.0

    def run(self) -> SweepState:
        file = StateFile(self.folder)
        try:
            with _sigterm_as_interrupt():
                while True:
                    ended = self._reap(file)
                    self._watch(file)
                    self._beat(file)
                    started = self._claim_and_start(file) if self._may_take() else 0
                    if not self._children and not started and not self._waiting(file):
                        break
                    if not ended and not started:
                        time.sleep(self.poll_seconds)
        except KeyboardInterrupt:
            self._release(file)
            raise
        state = file.read()
        write_results(state, self.folder)
        return state

    # --- starting -----------------------------------------------------------------------

    def _may_take(self) -> bool:
        room = len(self._children) < self.jobs
        return room and (self.max_trials is None or self._taken < self.max_trials)

    def _claim_and_start(self, file: StateFile) -> int:
        claims: list[tuple[TrialState, list[str]]] = []
        with file.update() as state:
            self._heartbeat(state)
            while self._may_take() and len(claims) + len(self._children) < self.jobs:
                trial = orphan(state) or propose(state)
                if trial is None:
                    break
                trial.owner, trial.child_pid = Owner.here(), None
                trial.status, trial.exit_code, trial.stop_reason = "running", None, None
                trial.starts += 1
                command = self._command(state, trial)
                if not trial.command:
                    trial.command = command
                claims.append((trial, command))
                self._taken += 1
        for trial, command in claims:
            self._start(file, state, trial, command)
        return len(claims)

    def _command(self, state: SweepState, trial: TrialState) -> list[str]:
        root = trials.trial_root(self.folder, trial.number)
        run = trials.the_run(root)
        if run is not None and run.newest_checkpoint() is not None:
            trial.run_dir = str(run.path)
            return trials.resume_command(state.module, run, state.overrides)
        trials.clear(root)  # nothing to continue from: it starts over
        trial.run_dir, trial.history = None, []
        return trials.new_command(state.module, trial.values, machine_overrides(state), root)

    def _start(
        self, file: StateFile, state: SweepState, trial: TrialState, command: list[str]
    ) -> None:
        root = trials.trial_root(self.folder, trial.number)
        env = trials.trial_env(trial.number, root, state.metric_name, file.path)
        device = self._free_device()
        if device is not None:
            env[CUDA_VISIBLE_DEVICES] = device
        out = trials.log_file(self.folder, trial.number).open("a")
        if trial.starts > 1:
            out.write(f"\n--- start {trial.starts} of trial {trial.number} ---\n")
        process = trials.start(command, root, out, env)
        log.info("trial %d: started (pid %d)", trial.number, process.pid)
        self._children[trial.number] = _Child(
            trial.number, process, out, time.monotonic(), time.time(), root, device
        )
        with file.update() as latest:
            latest.trial(trial.number).child_pid = process.pid

    def _free_device(self) -> str | None:
        """A GPU no running trial of this process has, when trials run side by side."""
        devices = visible_devices()
        if self.jobs == 1 or len(devices) < 2:
            return None  # one trial at a time sees the GPUs it is given, as any run does
        used = [child.device for child in self._children.values()]
        return min(devices, key=used.count)  # with more trials than GPUs, they share

    def _waiting(self, file: StateFile) -> bool:
        """Whether a trial must first end elsewhere before this process can take it on."""
        if not self._may_take():
            return False
        state = file.read()
        return any(_orphaned_child_alive(t) for t in state.trials)

    # --- watching -----------------------------------------------------------------------

    def _watch(self, file: StateFile) -> None:
        """Record new evaluations of running trials, for the others' early termination."""
        fresh: dict[int, list[list[float]]] = {}
        for child in self._children.values():
            history = trials.reported_history(child.root)
            if len(history) != child.reported:
                child.reported = len(history)
                fresh[child.number] = history
        if not fresh:
            return
        with file.update() as state:
            for number, history in fresh.items():
                state.trial(number).history = history
            self._heartbeat(state)

    def _beat(self, file: StateFile) -> None:
        """Renew this process's claims when due, so other hosts know its trials are run."""
        if self._children and time.monotonic() >= self._next_heartbeat:
            with file.update() as state:
                self._heartbeat(state)

    def _heartbeat(self, state: SweepState) -> None:
        if time.monotonic() < self._next_heartbeat:
            return
        self._next_heartbeat = time.monotonic() + HEARTBEAT_SECONDS
        for trial in state.trials:
            if trial.owner is not None and trial.owner.is_me():
                trial.owner.heartbeat = time.time()

    # --- ending -------------------------------------------------------------------------

    def _reap(self, file: StateFile) -> bool:
        ended = [c for c in self._children.values() if c.process.poll() is not None]
        for child in ended:
            del self._children[child.number]
            child.log.close()
            self._record_end(file, child, interrupted=False)
        return bool(ended)

    def _record_end(self, file: StateFile, child: _Child, *, interrupted: bool) -> None:
        code = child.process.returncode
        run = trials.the_run(child.root)
        state_name = file.read().metric_name
        logged = [] if run is None else trials.logged_history(run.tensorboard_dir, state_name)
        with file.update() as state:
            trial = state.trial(child.number)
            trial.history = logged or trials.reported_history(child.root) or trial.history
            trial.run_dir = None if run is None else str(run.path)
            trial.seconds += time.monotonic() - child.started
            trial.spans.append([child.started_at, time.time()])
            trial.exit_code, trial.owner, trial.child_pid = code, None, None
            trial.stop_reason = trials.stop_reason(child.root)
            if code == 0:
                trial.status = "stopped" if trial.stop_reason else "finished"
            elif interrupted or code in STOPPED_BY_SIGNAL:
                trial.status = "running"  # cut short, resumable: the next process continues it
            else:
                trial.status = "failed"
        if trial.status != "running":
            write_results(state, self.folder)
            if self.on_trial is not None:
                self.on_trial(trial, state)

    def _release(self, file: StateFile) -> None:
        """Stopped by Ctrl-C or SIGTERM: the trials save and end, and wait for a next process."""
        for child in self._children.values():
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
        for child in list(self._children.values()):
            child.process.wait()
            child.log.close()
            self._record_end(file, child, interrupted=True)
        self._children.clear()
        write_results(file.read(), self.folder)


def machine_overrides(state: SweepState) -> list[str]:
    """The overrides a trial gets after its values: the sweep's, less its ``train_for``
    (the sweep config holds it, as a constant, when the command line gave one) and its
    ``device.experiments_root`` (a trial's is its own ``trial-N/``)."""
    dropped = {"device.experiments_root"}
    if "train_for" in state.config["parameters"]:
        dropped.add("train_for")
    return [o for o in state.overrides if o.partition("=")[0] not in dropped]


def orphan(state: SweepState) -> TrialState | None:
    """A running trial nobody runs any more (its process ended or its owner died)."""
    for trial in state.trials:
        if trial.status != "running" or _orphaned_child_alive(trial):
            continue
        if trial.owner is None or (not trial.owner.is_me() and trial.owner.is_gone()):
            return trial
    return None


def _orphaned_child_alive(trial: TrialState) -> bool:
    """A trial whose owner died but whose own process (on this host) still ends its step."""
    owner = trial.owner
    if trial.status != "running" or owner is None or owner.is_me() or trial.child_pid is None:
        return False
    if owner.host != Owner.here().host or not owner.is_gone():
        return False
    return process_alive(trial.child_pid)


def propose(state: SweepState) -> TrialState | None:
    """A new trial with the engine's next values, if the sweep has room for one."""
    cap = min(state.count, int(state.config.get("run_cap") or state.count))
    if len(state.trials) >= cap:
        return None
    seen = [Finished(t.values, t.metric, _engine_state(t)) for t in state.trials]
    # The engine draws from Python's and numpy's global generators; this process trains
    # nothing, so seeding them here changes nothing else.
    random.seed(f"{state.seed}-{len(state.trials) + 1}")
    numpy.random.seed((state.seed + len(state.trials) + 1) % 2**32)
    values = next_values(state.config, state.metric_name, seen)
    if values is None:
        return None  # a grid that ran out
    trial = TrialState(number=len(state.trials) + 1, values=values)
    state.trials.append(trial)
    return trial


def _engine_state(trial: TrialState) -> Any:
    if trial.status == "running":
        return "running"
    return "finished" if trial.succeeded else "failed"  # a stopped trial: a real result


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Generator[None]:
    """SIGTERM (a cancelled job) ends the sweep process as Ctrl-C does: trials saved."""
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
