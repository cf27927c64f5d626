"""GPU utilisation sampled in a background thread while a benchmark's timed window is open.

The number is NVIDIA's "utilization.gpu": the share of the last sample period (1/6 s to 1 s,
depending on the GPU) in which at least one kernel ran. It says whether the GPU waited for
the host (launch overhead, a loader, a host sync), not how busy its cores were.

Two sources, the first that works: ``torch.cuda.utilization`` (needs the ``pynvml`` module,
from the ``nvidia-ml-py`` package, which this project does not install), then the
``nvidia-smi`` command line, asked for the one GPU by its UUID. Neither: "n/a".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any, cast

import torch

Reader = Callable[[], float | None]
"""One reading in percent, or ``None`` when this reading failed."""

NOT_AVAILABLE = "n/a"


def parse_nvidia_smi(text: str) -> float | None:
    """The first number of ``nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader``.

    It prints ``"37 %"`` (``"37"`` with ``nounits``), ``"[N/A]"`` where the GPU does not
    report it, or an error message; only a number between 0 and 100 is a reading.
    """
    for line in text.splitlines():
        value = line.strip().removesuffix("%").strip()
        try:
            number = float(value)
        except ValueError:
            continue
        if 0.0 <= number <= 100.0:
            return number
    return None


def format_utilisation(readings: list[float]) -> str:
    """The mean of the readings as ``"87%"``, or ``"n/a"`` with none."""
    if not readings:
        return NOT_AVAILABLE
    return f"{sum(readings) / len(readings):.0f}%"


def reader_for(device: torch.device) -> tuple[Reader, str] | None:
    """How to read ``device``'s utilisation and the source's name, or ``None`` (a CPU, or
    no tool to ask)."""
    if device.type != "cuda":
        return None
    try:
        torch.cuda.utilization(device)  # raises without pynvml, or without NVIDIA's driver
    except Exception:  # ModuleNotFoundError, pynvml.NVMLError: either way, not this source
        pass
    else:
        return (lambda: float(torch.cuda.utilization(device))), "torch.cuda.utilization"
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return None
    # By UUID: CUDA_VISIBLE_DEVICES renumbers GPUs for CUDA, not for nvidia-smi. Failing
    # that (a MIG slice, an older driver), by index where nothing renumbers them.
    ids = [f"GPU-{device_properties(device).uuid}"]
    if "CUDA_VISIBLE_DEVICES" not in os.environ:
        ids.append(str(device.index or 0))
    for gpu in ids:
        command = [
            executable,
            f"--id={gpu}",
            "--query-gpu=utilization.gpu",
            "--format=csv,noheader,nounits",
        ]
        reader = _smi_reader(command)
        if reader() is not None:
            return reader, f"nvidia-smi --id={gpu}"
    return None


def device_properties(device: torch.device) -> Any:
    """``torch.cuda.get_device_properties``: name, memory, capability, UUID (untyped in torch)."""
    get = cast(Callable[[torch.device], Any], torch.cuda.get_device_properties)  # pyright: ignore[reportUnknownMemberType]
    return get(device)


def _smi_reader(command: list[str]) -> Reader:
    def read() -> float | None:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=5, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return parse_nvidia_smi(done.stdout) if done.returncode == 0 else None

    return read


class Sampler:
    """Reads utilisation every ``interval`` seconds while a window is open.

    ``open()`` and ``close()`` mark the timed window (the step clock calls them right after
    synchronising with the GPU); readings outside it are not kept. ``readings()`` gives those
    of the last window taken at least ``settle`` seconds after it opened (a reading covers
    up to the last second, so an earlier one also counts time before the window), or all of
    them when the window was shorter. With no reader it starts no thread: "n/a".
    """

    def __init__(self, reader: Reader | None, interval: float = 0.25, settle: float = 1.0) -> None:
        self._reader = reader
        self._interval = interval
        self._settle = settle
        self._open = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._opened = 0.0
        self._readings: list[tuple[float, float]] = []  # (seconds after open, percent)
        self._thread: threading.Thread | None = None

    @property
    def available(self) -> bool:
        return self._reader is not None

    @property
    def is_open(self) -> bool:
        """Whether a window is open now (readings taken now are kept)."""
        return self._open.is_set()

    def __enter__(self) -> Sampler:
        if self._reader is not None:
            self._thread = threading.Thread(target=self._run, name="gpu-utilisation", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._open.set()  # wakes a thread waiting for a window
        if self._thread is not None:
            self._thread.join(timeout=10)

    def open(self) -> None:
        """Start a window: forget earlier readings, keep the next ones."""
        with self._lock:
            self._readings = []
            self._opened = time.perf_counter()
        self._open.set()

    def close(self) -> None:
        self._open.clear()

    def readings(self) -> list[float]:
        with self._lock:
            taken = list(self._readings)
        settled = [value for after, value in taken if after >= self._settle]
        return settled or [value for _, value in taken]

    def add(self, value: float) -> None:
        """Keep ``value`` as read now, if a window is open (the sampling thread calls it)."""
        with self._lock:
            if self._open.is_set():
                self._readings.append((time.perf_counter() - self._opened, value))

    def _run(self) -> None:
        reader = self._reader
        assert reader is not None
        while not self._stop.is_set():
            self._open.wait()
            if self._stop.is_set():
                return
            value = reader()
            # Kept only if the window is still open once the reading is back: a reading
            # that straddles the close would count time after the window.
            if value is not None:
                self.add(value)
            self._stop.wait(self._interval)
