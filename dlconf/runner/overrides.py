"""The command line, read once before anything is composed: Hydra's flags and the overrides.

Hydra's own parser (argparse) wants flags before overrides (``--cfg job params.beta=1``)
and answers anything else with its nine-line usage. Here flags may come anywhere; the
command line is put back in an order Hydra's parser reads, so ``hydra.main`` reads the same
thing after us.

Each override is then checked for what dlconf's configs make pointless or unsafe, each with
one line naming the key:

- ``+key=value``, ``++key=value``, ``~key``: every dlconf config is a closed schema (each
  key a typed field), so there is nothing to add or delete; a new key is a typo. Hydra's
  own settings (``hydra.*``) stay open: ``+hydra.job.env_set.X=1`` is how Hydra adds.
- ``_target_`` and Hydra's other instantiate keywords, as a key or inside a value: which
  code a component runs is the experiment module's to say, where the type checker sees it
  (and Hydra's instantiation blocklist would otherwise answer with a traceback).
- Hydra's grammar: a parse error says what would be valid (see
  :func:`dlconf.runner.hydra_errors.parse_error`).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from typing import NoReturn

from hydra._internal.utils import get_args_parser
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import OverrideParseException

from dlconf.errors import ConfigError
from dlconf.runner.answer_cache import INSTANTIATE_KEYWORDS
from dlconf.runner.hydra_errors import parse_error
from dlconf.runner.resume import split_resume

_KEYWORD = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(INSTANTIATE_KEYWORDS) + r")(?![A-Za-z0-9])")
_HYDRA_KEY = re.compile(r"hydra([./].*)?")


def parse_command_line(argv: list[str]) -> argparse.Namespace:
    """Hydra's arguments from ``argv`` (``sys.argv``: the program, then the arguments).

    ``argv`` is reordered in place, flags first, for Hydra's parser; the overrides are
    checked (unless the flags ask for help or completion, which read none).
    Raises :class:`ConfigError` with one line for a bad flag or override.
    """
    parser = get_args_parser()
    # argparse prints its usage and exits on a bad flag; one line with the fix is ours.
    setattr(parser, "error", _bad_flag)  # noqa: B010 (an instance's method, not a field)
    flags, overrides = _split(parser, argv[1:])
    # Overrides first: a trailing flag may then take an optional value (`--info`) without
    # swallowing an override, and argparse reads positionals before flags without fuss.
    argv[1:] = [*overrides, *flags]
    args = parser.parse_args(argv[1:])
    if not (args.help or args.hydra_help or args.shell_completion or args.info):
        # `resume=<folder>` is a path, not Hydra grammar (`resume=~/runs/...`).
        check_overrides(split_resume(list(args.overrides))[1])
    return args


def check_overrides(overrides: Sequence[str]) -> list[Override]:
    """Parse ``overrides`` with Hydra's grammar; refuse what dlconf's configs do not take."""
    parser = OverridesParser.create()
    parsed: list[Override] = []
    for override in overrides:
        _refuse_keywords(override)
        try:
            parsed += parser.parse_overrides([override])
        except OverrideParseException:
            raise parse_error(override) from None
        _refuse_additions(override, parsed[-1])
    return parsed


def _refuse_keywords(override: str) -> None:
    keyword = _KEYWORD.search(override)
    if keyword is None:
        return
    raise ConfigError(
        f"refused {override!r}: {keyword.group(1)} chooses what code runs, which is the "
        "experiment module's to say (there the type checker sees it); change it there"
    )


def _refuse_additions(override: str, parsed: Override) -> None:
    key = parsed.key_or_group
    changes_schema = parsed.is_add() or parsed.is_force_add() or parsed.is_delete()
    if not changes_schema or _HYDRA_KEY.fullmatch(key):
        return
    plain = override.lstrip("+~")
    if parsed.is_delete():
        raise ConfigError(
            f"refused {override!r}: dlconf configs are closed schemas, so no key can be "
            f"deleted; set an optional one to null instead ({key}=null)"
        )
    raise ConfigError(
        f"refused {override!r}: no '+' needed, dlconf configs are closed schemas and every "
        f"settable key already exists; write {plain} (a misspelt key is then named)"
    )


def _split(parser: argparse.ArgumentParser, args: list[str]) -> tuple[list[str], list[str]]:
    """``args`` as (flags with their values, overrides), each in the order given."""
    # argparse has no public map from option string to action; this one is stable since
    # Python 2.7 and tests/test_overrides.py fails if it goes.
    actions = parser._option_string_actions
    flags: list[str] = []
    overrides: list[str] = []
    index = 0
    while index < len(args):
        token = args[index]
        index += 1
        if not token.startswith("-") or token == "-":
            overrides.append(token)
            continue
        flags.append(token)
        option, equals, _ = token.partition("=")
        action = actions.get(option)
        if action is None or equals or index >= len(args):
            continue
        takes_value = action.nargs is None or (
            action.nargs == "?" and args[index] in (action.choices or ())
        )
        if takes_value:
            flags.append(args[index])
            index += 1
    return flags, overrides


def _bad_flag(message: str) -> NoReturn:
    raise ConfigError(f"{message} (--help lists the flags; --hydra-help Hydra's own)")
