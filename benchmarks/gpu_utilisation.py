"""GPU utilisation sampled in a background thread while a benchmark's timed window is open.

The number is NVIDIA's "utilization.gpu": the share of the last sample period (1/6 s to 1 s,
depending on the GPU) in which at least one kernel ran. It says whether the GPU waited for
the host (launch overhead, a loader, a host sync), not how busy its cores were.

Two sources, the first that works: ``torch.cuda.utilization`` (needs the ``pynvml`` module,
from the ``nvidia-ml-py`` package, which this project does not install), then the
``nvidia-smi`` command line, asked for the one GPU by its UUID. Neither: "n/a".
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Callable

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


def reader_for(device: torch.device) -> Reader | None:
    """How to read ``device``'s utilisation, or ``None`` (a CPU, or no tool to ask)."""
    if device.type != "cuda":
        return None
    try:
        torch.cuda.utilization(device)  # raises without pynvml, or without NVIDIA's driver
    except Exception:  # ModuleNotFoundError, pynvml.NVMLError: either way, not this source
        pass
    else:
        return lambda: float(torch.cuda.utilization(device))
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return None
    # By UUID: CUDA_VISIBLE_DEVICES renumbers GPUs for CUDA, not for nvidia-smi.
    uuid = torch.cuda.get_device_properties(device).uuid
    command = [
        executable,
        f"--id=GPU-{uuid}",
        "--query-gpu=utilization.gpu",
        "--format=csv,noheader,nounits",
    ]

    def read() -> float | None:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=5, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return parse_nvidia_smi(done.stdout) if done.returncode == 0 else None

    return read if read() is not None else None


class Sampler:
    """Reads utilisation every ``interval`` seconds while a window is open.

    ``open()`` and ``close()`` mark the timed window (the step clock calls them right after
    synchronising with the GPU); readings outside it are not kept. ``readings()`` gives those
    of the last window. With no reader the sampler starts no thread and reports "n/a".
    """

    def __init__(self, reader: Reader | None, interval: float = 0.25) -> None:
        self._reader = reader
        self._interval = interval
        self._open = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._readings: list[float] = []
        self._thread: threading.Thread | None = None

    @property
    def available(self) -> bool:
        return self._reader is not None

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
        self._open.set()

    def close(self) -> None:
        self._open.clear()

    def readings(self) -> list[float]:
        with self._lock:
            return list(self._readings)

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
            if value is not None and self._open.is_set():
                with self._lock:
                    self._readings.append(value)
            self._stop.wait(self._interval)
