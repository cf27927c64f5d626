"""Hydra's composition errors, rewritten as one line that names the key and the fix.

Hydra reports a misspelt key as "Could not override 'params.bta'. To append to your config
use +params.bta=0.1", which sends a user the wrong way (our configs are closed schemas: a new
key is always a typo). These messages say what exists instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from hydra.errors import (
    ConfigCompositionException,
    HydraException,
    MissingConfigException,
    OverrideParseException,
)
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException, ValidationError

from dlconf.errors import ConfigError, close_matches
from dlconf.runner.answer_cache import unknown_key_message

if TYPE_CHECKING:
    from dlconf.runner.answer_cache import Tree


def explain(
    error: HydraException, overrides: list[str], base: Callable[[], DictConfig]
) -> ConfigError:
    """A :class:`ConfigError` for ``error``; ``base`` composes the config without overrides."""
    override = _culprit(error, overrides)
    if isinstance(error, OverrideParseException):
        if override is None:
            return ConfigError(f"cannot parse an override: {_first_line(error)}")
        return parse_error(override)
    if isinstance(error, MissingConfigException):
        return _missing_option(error)
    cause = error.__cause__
    if isinstance(error, ConfigCompositionException) and isinstance(cause, OmegaConfBaseException):
        key = getattr(cause, "full_key", None) or _key_of(override)
        if isinstance(cause, ConfigKeyError) or "Could not override" in str(error):
            return _unknown_key(str(key), base())
        if isinstance(cause, ValidationError):
            return ConfigError(f"bad value in {override!r}: {_first_line(cause)}")
    message = _first_line(error)
    if "Could not append to config" in message and override and override.startswith("+"):
        return ConfigError(
            f"{override[1:].split('=')[0]} already exists: drop the '+' ({override[1:]!r})"
        )
    if "Could not override" in message:
        return _unknown_key(_key_of(override), base())
    return ConfigError(message)


def parse_error(override: str) -> ConfigError:
    """Why Hydra's grammar refuses ``override``, and what would be valid instead.

    Hydra says where its parser stopped ("no viable alternative at input '['"); a user needs
    the rule they broke, so the hint is read off the override's text.
    """
    return ConfigError(f"cannot parse the override {override!r}: {_parse_hint(override)}")


_KEY = re.compile(r"[+~]{0,2}[A-Za-z_][\w\-]*([./@][\w\-]+)*")


def _parse_hint(override: str) -> str:
    key, equals, value = override.partition("=")
    if not equals:
        return f"an override is key=value, e.g. {key or 'params.NAME'}=VALUE"
    if not _KEY.fullmatch(key):
        return f"{key!r} is not a key: a key is dotted names such as params.beta"
    if value.startswith("="):
        return f"use one '=' between key and value: {key}={value.lstrip('=')}"
    if "${" in value and value.count("{") != value.count("}"):
        return "an interpolation is ${other.key}, closed with '}'"
    for opening, closing, example in (
        ("[", "]", "a list is [1,2]"),
        ("{", "}", "a dict is {a:1,b:2}"),
    ):
        if value.count(opening) != value.count(closing):
            return f"{example}: close the '{opening}' and separate items with commas"
    if not value.isascii():
        return _quote_it(key, value, "quote the value")
    for quote in "'\"":
        if value.startswith(quote) and value.count(quote) == 1:
            return f"close the quote: {key}={value}{quote}"
    if value.count("'") % 2 or value.count('"') % 2:
        return _quote_it(key, value, "a quote inside a value needs the other quotes around it")
    return _quote_it(key, value, "a value with special characters is quoted")


def _quote_it(key: str, value: str, rule: str) -> str:
    if "'" in value:
        return f'{rule}: {key}="{value}"'
    # The shell strips one level of quotes; Hydra must still see the other.
    return f"{rule}: {key}='{value}' (in a shell: \"{key}='{value}'\")"


def _unknown_key(key: str, base: DictConfig) -> ConfigError:
    parent = key.rpartition(".")[0]
    node = OmegaConf.select(base, parent) if parent else base
    known = [str(k) for k in node] if isinstance(node, DictConfig) else None
    return ConfigError(unknown_key_message(key, known))


def key_tree(config: DictConfig) -> Tree:
    """``config``'s keys as :func:`~dlconf.runner.answer_cache.unknown_key` reads them.

    A node that takes no new key (struct) is a subtree; anything else (a value, an open or
    missing node, an interpolation, which the full path resolves) is None: the cache
    answers no key below it.
    """
    tree: Tree = {}
    for key in config:
        name = str(key)
        child: object = None
        if not (OmegaConf.is_interpolation(config, name) or OmegaConf.is_missing(config, name)):
            child = config[name]
        closed = isinstance(child, DictConfig) and OmegaConf.is_struct(child)
        tree[name] = key_tree(child) if isinstance(child, DictConfig) and closed else None
    return tree


def _missing_option(error: MissingConfigException) -> ConfigError:
    missing = str(error.missing_cfg_file or "")
    group, _, option = missing.rpartition("/")
    options = [str(o) for o in (error.options or [])]
    if not group:
        return ConfigError(_first_line(error))
    return ConfigError(
        f"unknown {group} '{option}'{close_matches(option, options)}; "
        f"choose {group}=one of: {', '.join(options)}"
    )


def _culprit(error: HydraException, overrides: list[str]) -> str | None:
    """The override that ``error`` is about: Hydra names it in the message or the cause."""
    text = str(error)
    full_key = getattr(error.__cause__, "full_key", None)
    for override in overrides:
        if override in text or (full_key and _key_of(override) == full_key):
            return override
    for override in overrides:
        if f"'{_key_of(override)}'" in text:
            return override
    return None


def _key_of(override: str | None) -> str:
    return (override or "").lstrip("+~").split("=")[0]


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0]
