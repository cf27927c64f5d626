"""The scalars a run logged, read back from its folder: final and best value of each.

TensorBoard's events are read with TensorBoard's own reader. W&B writes a ``.wandb`` file
in every mode (what ``wandb sync`` uploads) and, offline, no summary; wandb ships no reader
for it, so :func:`_wandb_records` is one: a LevelDB-style log of 32 KiB blocks of chunks,
each holding part of a protobuf ``Record`` (``wandb.proto.wandb_internal_pb2``). A chunk
whose checksum fails ends the reading there (a run still writing, or a damaged file).

*Best* needs the metric's goal: the checkpoint's monitored metric has its mode, a training
loss (``Train/...``) is minimized, and an evaluation's metric (``ELBO/Validation``) follows
its evaluation class's ``higher_is_better``. Without a known goal the range is shown.
"""

from __future__ import annotations

import json
import logging
import struct
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, cast

from dlconf.internals import locate
from dlconf.runner.run_folder import RunFolder

log = logging.getLogger(__name__)

Goal = Literal["maximize", "minimize"]
BOOKKEEPING = ("counters/", "trainer/", "_", "epoch", "hp_metric")
"""Logged names that count steps or fill a logger's slots: not results."""
STEP_KEYS = ("trainer/global_step", "counters/global_step", "_step")
"""Where a W&B history row says its step, best first."""


@dataclass(frozen=True)
class Summary:
    """One metric of one run."""

    final: float
    """At the highest step."""
    minimum: float
    maximum: float

    def best(self, goal: Goal | None) -> float | None:
        if goal is None:
            return None
        return self.maximum if goal == "maximize" else self.minimum


def metric_summaries(folder: RunFolder) -> dict[str, Summary]:
    """Final, min and max of every scalar ``folder`` logged (TensorBoard and W&B)."""
    series: dict[str, list[tuple[int, float]]] = {}
    if folder.tensorboard_dir.is_dir():
        series.update(tensorboard_scalars(folder.tensorboard_dir))
    if folder.wandb_dir.is_dir():
        for run_file in sorted(folder.wandb_dir.glob("*run-*/*.wandb")):
            for name, points in _wandb_scalars(run_file).items():
                series.setdefault(name, []).extend(points)
    return {
        name: Summary(
            final=max(points, key=lambda point: point[0])[1],
            minimum=min(value for _, value in points),
            maximum=max(value for _, value in points),
        )
        for name, points in series.items()
        if points and not name.startswith(BOOKKEEPING)
    }


def metric_goal(name: str, config: Mapping[str, Any]) -> Goal | None:
    """Whether ``name`` is better larger or smaller, by what ``config`` (a run's) says."""
    checkpoint = _section(config, "checkpoint")
    if checkpoint.get("monitor") == name and checkpoint.get("mode") in ("max", "min"):
        return "maximize" if checkpoint["mode"] == "max" else "minimize"
    if name.startswith("Train/"):
        return "minimize"
    evaluation = _section(_section(config, "evaluation"), name.rsplit("/", 1)[0])
    target = _section(evaluation, "evaluation").get("_target_")
    if not isinstance(target, str):
        return None
    try:
        higher = getattr(locate(target), "higher_is_better", None)
    except (ImportError, ValueError, AttributeError):  # moved or removed since the run
        return None
    if not isinstance(higher, bool):
        return None
    return "maximize" if higher else "minimize"


def _section(config: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    section = config.get(key)
    return cast(Mapping[str, Any], section) if isinstance(section, Mapping) else {}


class _Event(Protocol):
    step: int
    value: float


class _Accumulator(Protocol):
    def Reload(self) -> object: ...  # TensorBoard's names

    def Tags(self) -> dict[str, list[str]]: ...

    def Scalars(self, tag: str) -> list[_Event]: ...


def tensorboard_scalars(events_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """``(step, value)`` of every scalar tag in ``events_dir``'s TensorBoard events."""
    # Imported here, as W&B's protobufs below: a run holds one logger's files, not both.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = cast(_Accumulator, EventAccumulator(str(events_dir), size_guidance={"scalars": 0}))
    events.Reload()
    return {
        tag: [(event.step, float(event.value)) for event in events.Scalars(tag)]
        for tag in events.Tags().get("scalars", [])
    }


def _wandb_scalars(run_file: Path) -> dict[str, list[tuple[int, float]]]:
    series: dict[str, list[tuple[int, float]]] = {}
    for record in _wandb_records(run_file):
        if record.WhichOneof("record_type") != "history":
            continue
        row: dict[str, Any] = {}
        for item in record.history.item:
            # wandb-core writes keys as a path (`nested_key`); an image's has several parts.
            if item.key or len(item.nested_key) == 1:
                row[item.key or item.nested_key[0]] = json.loads(item.value_json)
        step = next((row[key] for key in STEP_KEYS if isinstance(row.get(key), int)), 0)
        for name, value in row.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                series.setdefault(name, []).append((step, float(value)))
    return series


_HEADER = struct.Struct("<4sHB")  # ident, magic, version
_CHUNK = struct.Struct("<IHB")  # crc32, length, type
_BLOCK = 32768
_FULL, _FIRST, _LAST = 1, 2, 4


def _wandb_records(path: Path) -> Iterator[Any]:  # wandb_internal_pb2.Record: untyped
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    if len(data) < _HEADER.size or _HEADER.unpack_from(data)[:2] != (b":W&B", 0xBEE1):
        log.warning("%s is not a W&B run file: its metrics are left out", path)
        return
    position, pending = _HEADER.size, b""
    while position + _CHUNK.size <= len(data):
        room = _BLOCK - position % _BLOCK
        crc, length, kind = _CHUNK.unpack_from(data, position)
        if room < _CHUNK.size or (kind == 0 and length == 0):  # padding to the block's end
            position += room
            continue
        chunk = data[position + _CHUNK.size : position + _CHUNK.size + length]
        if len(chunk) < length or zlib.crc32(bytes([kind]) + chunk) & 0xFFFFFFFF != crc:
            log.warning("%s ends in an unreadable record: metrics after it are left out", path)
            return
        position += _CHUNK.size + length
        pending = chunk if kind in (_FULL, _FIRST) else pending + chunk
        if kind in (_FULL, _LAST):
            record: Any = getattr(wandb_internal_pb2, "Record")()  # noqa: B009 (no stubs)
            record.ParseFromString(pending)
            yield record
