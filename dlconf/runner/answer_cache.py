"""Answers without torch: ``--help`` and a misspelt key, as an earlier run of the code gave them.

``python -m experiments.X --help`` or ``... params.bta=0.1`` would otherwise import torch
and Lightning (seconds) before reading its command line. The full path remembers each
answer it gives here, under ``$XDG_CACHE_HOME/dlconf/answers`` (``~/.cache/...``); the
next such command line is answered from it while Python starts, before the experiment
module runs (``experiments/__init__.py`` calls :func:`answer_early`).

A remembered answer is given only where it cannot be stale. With it are its *inputs*:

- every file Python had loaded when the answer was given (the experiment, dlconf, the
  devices, and each library: torch, Lightning, Hydra...), with its mtime and size, the
  folders holding them (a new file in ``devices/`` is a new device) and ``sys.path``'s;
- the interpreter, its version and options, the working directory, the host, and a digest
  of the whole environment (``DEVICE_NAME`` and anything a device reads).

Any difference, and the full path answers (and remembers anew). A misspelt key is
answered only where the full path's first error is certainly that key: every override a
plain ``key=value`` (anything else, a flag, a group such as ``data=...``, ``hydra.*`` or
``resume=`` goes the full way), the first one's key unknown in the remembered key tree.
A valid key never stops here: it costs a small file read.

This module imports only the standard library, and only what Python starts with at module
level: it is loaded by its path before ``dlconf`` (whose import pulls in torch), and the
runner's later ``import`` finds the same module, which then remembers the answers.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # `typing` alone costs more than answering
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import Any, TextIO, TypeAlias

    Tree: TypeAlias = "dict[str, Tree | None]"
    """A config's keys: a closed node maps its keys to their subtrees, anything else None."""

FORMAT = 1
"""The cache's layout; a new one reads no old file."""
HELP_FLAGS = (["--help"], ["-h"])
"""Command lines that ask for ``--help`` alone (argparse's one action: the same text)."""
ERROR_EXIT_CODE = 2
""":class:`dlconf.errors.ConfigError`'s exit code, with which the full path ends."""
AGENT_ENV_VARS = ("WANDB_SWEEP_ID", "DLCONF_SWEEP_AGENT")
"""A sweep agent's run checks its command line against a file: never answered here (the
same names as :mod:`dlconf.runner.agent_guard`'s)."""
INSTANTIATE_KEYWORDS = ("_target_", "_partial_", "_convert_", "_recursive_", "_args_")
"""Hydra's instantiate keywords: setting one chooses what code runs and how (refused before
composing, :mod:`dlconf.runner.overrides`)."""
FULL_PATH_KEYS = ("hydra", "resume")
"""First key parts the full path reads in its own way: Hydra's settings, ``resume=``."""
MODIFIED_MARGIN_NS = 1_000_000_000
"""A file modified this close to the run's start (or later) may have changed after Python
read it: no answer is remembered with it (file systems stamp times coarsely)."""

# Hydra's grammar parses every override made of these as a plain value, so no parse error
# can come before a key error; anything else (quotes, lists, sweeps, interpolations, `+`,
# `~`, spaces) goes the full way. Sets, not a regular expression: compiling one costs more.
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME = _NAME_START | frozenset("0123456789-")
_VALUE = _NAME | frozenset(".+:/")


class Startup:
    """What this process was started with, taken before anything could change it."""

    def __init__(self, module: str, args: Sequence[str]) -> None:
        self.module = module
        self.args = list(args)
        self.started_ns = _now_ns()
        self.environ = dict(os.environ)
        self.cwd = os.getcwd()
        self.path = list(sys.path)

    def identity(self) -> dict[str, object]:
        """Every input of an answer but the files: equal, or the answer is not given."""
        import hashlib
        import socket

        environ = "\0".join(f"{k}={v}" for k, v in sorted(self.environ.items()))
        return {
            "format": FORMAT,
            "module": self.module,
            "executable": sys.executable,
            "version": sys.version,
            # -W error, -O, -X ...: the full path might answer otherwise.
            "options": [repr(sys.flags), sys.warnoptions, repr(sorted(sys._xoptions.items()))],
            "cwd": self.cwd,
            "path": self.path,
            "host": socket.gethostname(),
            # A digest: the environment holds secrets (WANDB_API_KEY) that no file should.
            "environ": hashlib.sha256(environ.encode()).hexdigest(),
        }

    def folder(self) -> str:
        """This experiment's answers for this project and interpreter."""
        import zlib

        root = self.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        # Only a name: what the answers depend on is checked in full (identity()).
        where = zlib.crc32(f"{self.cwd}\0{sys.executable}".encode())
        return os.path.join(root, "dlconf", "answers", f"{self.module}-{where:08x}")


_startup: Startup | None = None
"""Set by :func:`answer_early` in a ``python -m experiments.X`` process: only such a
process remembers answers (a test calling ``main()`` may have changed anything)."""


def answer_early(package: str) -> None:
    """Answer ``python -m <package>.X ...`` from the cache and exit, if it may be answered.

    Called while Python imports ``package``, before ``X`` runs as ``__main__``; does
    nothing otherwise. Whatever goes wrong here, the full path answers.
    """
    global _startup
    module = _module_run(package)
    if module is None:
        return
    _startup = Startup(module, sys.argv[1:])
    try:
        answer = _answer(_startup)
    except (OSError, ValueError, LookupError, TypeError, AttributeError):
        return
    if answer is not None:
        stream, text, code = answer
        stream.write(text)
        stream.flush()
        raise SystemExit(code)
    if _startup.args in HELP_FLAGS:
        sys.stdout = _Recorder(sys.stdout)


def _module_run(package: str) -> str | None:
    """``package.X`` when Python is locating ``-m package.X`` (``sys.argv[0]`` is "-m")."""
    orig = getattr(sys, "orig_argv", [])
    if sys.argv[:1] != ["-m"] or len(orig) < len(sys.argv) + 1:
        return None
    if orig[len(orig) - len(sys.argv) + 1 :] != sys.argv[1:]:
        return None
    module = orig[len(orig) - len(sys.argv)].removeprefix("-m")
    return module if module.startswith(package + ".") else None


def _answer(startup: Startup) -> tuple[TextIO, str, int] | None:
    args = startup.args
    if not args or any(startup.environ.get(name) for name in AGENT_ENV_VARS):
        return None
    if args in HELP_FLAGS:
        record = _read(startup, "help")
        if record is None or not _inputs_unchanged(startup, "help", record):
            return None
        return sys.stdout, str(record["stdout"]), 0
    keys = plain_keys(args)
    record = None if keys is None else _read(startup, "keys")
    message = None if keys is None or record is None else _misspelt_key(keys, record)
    if message is None or not _inputs_unchanged(startup, "keys", record):
        return None
    return sys.stderr, f"error: {message}\n", ERROR_EXIT_CODE


def plain_keys(args: Sequence[str]) -> list[str] | None:
    """The keys of ``args`` if each is a plain ``key=value`` that Hydra parses as such."""
    keys: list[str] = []
    for arg in args:
        key, equals, value = arg.partition("=")
        names = key.split(".")
        plain = all(name[:1] in _NAME_START and _NAME.issuperset(name) for name in names)
        if not (plain and equals and _VALUE.issuperset(value)):
            return None
        if any(keyword in arg for keyword in INSTANTIATE_KEYWORDS):
            return None
        keys.append(key)
    return keys


def _misspelt_key(keys: Sequence[str], record: Mapping[str, Any]) -> str | None:
    """The full path's message for the first key, if that is certainly a key error."""
    # The defaults list (groups) is composed before any key is set: an error there first.
    late = {*record["groups"], *FULL_PATH_KEYS}
    if any(key.split(".")[0] in late for key in keys):
        return None
    return unknown_key(keys[0], record["keys"])


def unknown_key(key: str, tree: Tree) -> str | None:
    """Why ``key`` is not in ``tree``, as the full path says it; None if it may be there.

    OmegaConf names the first part that is missing (``params.bta`` for ``params.bta.x``).
    """
    node: Tree | None = tree
    parts = key.split(".")
    for depth, part in enumerate(parts):
        if node is None:
            return None  # below a value, an open node, an interpolation: not for here
        if part not in node:
            return unknown_key_message(".".join(parts[: depth + 1]), list(node))
        node = node[part]
    return None


def unknown_key_message(key: str, known: Sequence[str] | None) -> str:
    """``unknown key 'params.bta' (did you mean 'params.beta'?); 'params' has: ...``.

    ``known`` lists the keys of ``key``'s parent; None when the parent is not a node.
    """
    parent = key.rpartition(".")[0]
    where = f"'{parent}'" if parent else "the config"
    if known is None:
        return f"unknown key '{key}': {where} does not exist"
    # Compare leaf names (a shared prefix would make every sibling look close), but
    # suggest the full key, ready to paste.
    prefix = f"{parent}." if parent else ""
    suggestion = close_matches(key.rpartition(".")[2], known).replace("'", "'" + prefix, 1)
    suggestion = suggestion.replace(" or '", " or '" + prefix)
    return f"unknown key '{key}'{suggestion}; {where} has: {', '.join(known)}"


def close_matches(word: str, candidates: Iterable[str]) -> str:
    """:func:`dlconf.errors.close_matches`, which this module cannot import (dlconf would)."""
    import difflib

    matches = difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.6)
    if not matches:
        return ""
    return " (did you mean " + " or ".join(repr(m) for m in matches) + "?)"


# Remembering: the full path, once it has answered.


def remember_help(text: str) -> None:
    """Keep ``text``, which ``--help`` printed, for the next ``--help``."""
    if _startup is not None and _startup.args in HELP_FLAGS:
        _write(_startup, "help", {"stdout": text})


def remember_keys(tree: Tree, groups: Sequence[str]) -> None:
    """Keep the composed config's key ``tree`` (no overrides) and its config ``groups``."""
    if _startup is not None:
        _write(_startup, "keys", {"keys": tree, "groups": list(groups)})


def printing_help(run: Callable[[], object]) -> None:
    """``run()``, which prints ``--help``; all this process printed is remembered if it succeeds."""
    try:
        run()
    except SystemExit as done:  # Hydra exits after printing help
        if done.code in (None, 0):
            _remember_printed()
        raise
    _remember_printed()


class _Recorder:
    """``sys.stdout`` in a ``--help`` process, from its start: the answer is all it prints."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.printed: list[str] = []

    def write(self, text: str) -> int:
        self.printed.append(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _remember_printed() -> None:
    recorder = sys.stdout
    if isinstance(recorder, _Recorder):  # else someone else took stdout over: unknown
        remember_help("".join(recorder.printed))


def _write(startup: Startup, name: str, answer: Mapping[str, object]) -> None:
    """Store ``answer`` with its inputs, each file replaced whole; a failure only logs."""
    import hashlib
    import json
    import logging

    try:
        files = [_stat(path) for path in sorted(_loaded_paths(startup))]
        if any(mtime > startup.started_ns - MODIFIED_MARGIN_NS for _, mtime, _ in files):
            return  # maybe changed after this process read it: the answer may be older
        inputs = json.dumps({"identity": startup.identity(), "files": files}).encode()
        record = {"format": FORMAT, "inputs": hashlib.sha256(inputs).hexdigest(), **answer}
        folder = startup.folder()
        os.makedirs(folder, mode=0o700, exist_ok=True)
        # Inputs first: a reader of the new record never pairs it with old inputs.
        _replace(os.path.join(folder, f"{name}.inputs.json"), inputs)
        _replace(os.path.join(folder, f"{name}.json"), json.dumps(record).encode())
    except (OSError, ValueError, TypeError) as error:
        logging.getLogger(__name__).debug("answer not remembered: %s", error)


def _replace(path: str, content: bytes) -> None:
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temporary, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _loaded_paths(startup: Startup) -> set[str]:
    """Each loaded module's file, its folder, each package's folders, ``sys.path``'s."""
    paths = {p for p in startup.path if os.path.isabs(p)}
    for module in list(sys.modules.values()):
        attributes: dict[str, Any] = getattr(module, "__dict__", {})
        file = attributes.get("__file__")
        if isinstance(file, str) and os.path.isabs(file):
            paths.update((file, os.path.dirname(file)))
        folders: Iterable[object] = attributes.get("__path__") or ()
        paths.update(f for f in folders if isinstance(f, str) and os.path.isabs(f))
    return paths


def _stat(path: str) -> tuple[str, int, int]:
    """``path``'s mtime and size; -1, -1 where it does not exist (it must not appear)."""
    try:
        stat = os.stat(path)
    except OSError:
        return path, -1, -1
    return path, stat.st_mtime_ns, stat.st_size


def _read(startup: Startup, name: str) -> dict[str, Any] | None:
    import json

    try:
        with open(os.path.join(startup.folder(), f"{name}.json"), "rb") as file:
            record: dict[str, Any] = json.loads(file.read())
    except FileNotFoundError:
        return None
    return record if record.get("format") == FORMAT else None


def _inputs_unchanged(startup: Startup, name: str, record: Mapping[str, Any] | None) -> bool:
    """Whether every input of ``record`` is as it was when it was written."""
    import hashlib
    import json

    if record is None:
        return False
    with open(os.path.join(startup.folder(), f"{name}.inputs.json"), "rb") as file:
        content = file.read()
    if hashlib.sha256(content).hexdigest() != record["inputs"]:
        return False  # another run replaced the inputs since
    inputs = json.loads(content)
    if inputs["identity"] != startup.identity():
        return False
    return all(_stat(path) == (path, mtime, size) for path, mtime, size in inputs["files"])


def _now_ns() -> int:
    import time

    return time.time_ns()
