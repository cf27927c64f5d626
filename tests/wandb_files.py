"""Read back what an offline W&B run wrote: its ``.wandb`` records and its saved files.

A ``.wandb`` file is a LevelDB-style log (what ``wandb sync`` uploads): a 7-byte header
(``:W&B``, magic 0xBEE1, version 0), then 32 KiB blocks of chunks, each with a 7-byte
header (CRC32, length, type: full / first / middle / last), holding protobuf ``Record``s
from ``wandb.proto.wandb_internal_pb2``. wandb 0.31 ships no Python reader for it, so
this is one, checking every chunk's CRC so a corrupt file fails loudly.
"""

from __future__ import annotations

import json
import os
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wandb.proto import wandb_internal_pb2 as pb

_HEADER = struct.Struct("<4sHB")  # ident, magic, version
_CHUNK = struct.Struct("<IHB")  # crc32, length, type
_BLOCK = 32768
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def records(path: Path) -> Iterator[Any]:  # wandb_internal_pb2.Record: protobuf, untyped
    """Every record in the ``.wandb`` file at ``path``, in order."""
    data = path.read_bytes()
    ident, magic, version = _HEADER.unpack_from(data)
    assert (ident, magic, version) == (b":W&B", 0xBEE1, 0), f"not a W&B run file: {path}"
    position, pending = _HEADER.size, b""
    while position + _CHUNK.size <= len(data):
        room = _BLOCK - position % _BLOCK
        if room < _CHUNK.size:  # a block's tail too short for a header is padding
            position += room
            continue
        crc, length, kind = _CHUNK.unpack_from(data, position)
        if kind == 0 and length == 0:  # zero padding up to the block's end
            position += room
            continue
        if position + _CHUNK.size + length > len(data):  # still being written
            return
        chunk = data[position + _CHUNK.size : position + _CHUNK.size + length]
        assert zlib.crc32(bytes([kind]) + chunk) & 0xFFFFFFFF == crc, f"bad CRC in {path}"
        position += _CHUNK.size + length
        pending = chunk if kind in (_FULL, _FIRST) else pending + chunk
        if kind in (_FULL, _LAST):
            record: Any = getattr(pb, "Record")()  # noqa: B009  (generated; no stubs)
            record.ParseFromString(pending)
            yield record


@dataclass
class OfflineRun:
    """An offline W&B run folder (``.../wandb/offline-run-*``), read back."""

    folder: Path
    name: str = ""
    """The run's display name."""
    config: dict[str, Any] = field(default_factory=dict[str, Any])
    history: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    saved: dict[str, int] = field(default_factory=dict[str, int])
    """Files recorded for upload, by path in the run's files, with their policy."""

    @property
    def files(self) -> Path:
        return self.folder / "files"

    def rows_with(self, key: str) -> list[dict[str, Any]]:
        return [row for row in self.history if key in row]


def read_run(folder: Path, timeout: float = 30.0) -> OfflineRun:
    """Config (last value of each key), history rows and saved files of the run in ``folder``.

    Waits for the run's exit record: ``wandb.finish()`` may return before W&B's service
    has written the file out.
    """
    (run_file,) = folder.glob("*.wandb")
    deadline = time.monotonic() + timeout
    while not any(record.WhichOneof("record_type") == "exit" for record in records(run_file)):
        assert time.monotonic() < deadline, f"no exit record in {run_file} after {timeout} s"
        time.sleep(0.05)
    run = OfflineRun(folder)
    for record in records(run_file):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run.name = str(record.run.display_name)
            run.config.update(_items(record.run.config.update))
        elif kind == "config":
            run.config.update(_items(record.config.update))
        elif kind == "history":
            run.history.append(_history_row(record.history))
        elif kind == "files":
            run.saved.update({file.path: file.policy for file in record.files.files})
    run.config.pop("_wandb", None)
    return run


def offline_environment(tmp: Path, **extra: str) -> dict[str, str]:
    """This process's environment for a W&B run that stays offline and inside ``tmp``: no
    credentials, W&B settings or DEVICE_NAME of the caller's leak in."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "DEVICE_NAME" and not key.startswith(("WANDB_", "NETRC"))
    }
    return env | {
        "WANDB_MODE": "offline",
        "HOME": str(tmp / "home"),
        "WANDB_CONFIG_DIR": str(tmp / "wandb_config"),
        "WANDB_CACHE_DIR": str(tmp / "wandb_cache"),
        "WANDB_DATA_DIR": str(tmp / "wandb_data"),
        **extra,
    }


def offline_runs(save_dir: Path) -> list[Path]:
    """The offline W&B run folders a logger with ``save_dir`` wrote."""
    return sorted((save_dir / "wandb").glob("offline-run-*"))


def _items(updates: Any) -> dict[str, Any]:
    return {_key(item): json.loads(item.value_json) for item in updates}


def _history_row(history: Any) -> dict[str, Any]:  # a wandb_internal_pb2.HistoryRecord
    row: dict[str, Any] = {}
    for item in history.item:
        key = _key(item)
        value = json.loads(item.value_json)
        if item.nested_key and len(item.nested_key) > 1:  # e.g. an image's "format", "width"
            row.setdefault(item.nested_key[0], {})[".".join(item.nested_key[1:])] = value
        else:
            row[key] = value
    return row


def _key(item: Any) -> str:
    # wandb-core writes keys as `nested_key` (a path), the Python writer used `key`.
    return str(item.key) if item.key else "/".join(item.nested_key)
