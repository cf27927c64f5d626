"""Instantiating a config node, with its constructor's annotations checked.

A value that does not fit the constructor (pydantic's ValidationError, a TypeError or
ValueError the constructor raises) is the user's mistake: it becomes a one-line
:class:`~dlconf.errors.ConfigError` naming the config key.
"""

from __future__ import annotations

from typing import Any

from hydra.errors import InstantiationException
from hydra_zen import instantiate

from dlconf.errors import ConfigError, DlconfError
from dlconf.runner.strict_parser import strict_parser


def build(node: Any, where: str, **kwargs: Any) -> Any:
    """Instantiate ``node``, checking constructor annotations; user errors become ConfigError."""
    try:
        return instantiate(node, _convert_="all", _target_wrapper_=strict_parser, **kwargs)
    except InstantiationException as error:
        cause = error.__cause__
        if isinstance(cause, DlconfError):
            raise cause from None
        if isinstance(cause, ValueError | TypeError):  # pydantic's ValidationError is one
            raise ConfigError(f"{where}: {_short(cause)}") from None
        raise


def _short(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return " ".join(lines[:3])
