"""Instantiation that checks each argument's type without converting it.

hydra-zen's pydantic parser checks constructor annotations when a config is built, but
pydantic *coerces* (``pin_memory=0`` becomes ``False``, ``"64"`` becomes ``64``): a linked
value of the wrong type would train silently. :func:`strict_parser` refuses a plain value
whose type differs from the annotation (see :mod:`dlconf.strict_types`) and hands
everything else to pydantic, which still checks instances and makes tuples of lists.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast, get_type_hints

from hydra_zen.third_party.pydantic import pydantic_parser

from dlconf.errors import ConfigError
from dlconf.strict_types import type_problem

T = TypeVar("T", bound=Callable[..., Any])


def strict_parser(target: T) -> T:
    """A ``_target_wrapper_`` for ``instantiate``: strict types first, then pydantic."""
    parsed = cast(Callable[..., Any], pydantic_parser(target))  # pyright: ignore[reportUnknownArgumentType]
    try:
        signature = inspect.signature(target)
        function = target.__init__ if inspect.isclass(target) else target
        hints = get_type_hints(function)
    except (TypeError, ValueError, NameError):
        return cast(T, parsed)  # no signature to read (a builtin): pydantic alone decides

    @functools.wraps(target)
    def checked(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind_partial(*args, **kwargs)
        for argument, value in bound.arguments.items():
            problem = type_problem(hints.get(argument, Any), value)
            if problem is not None:
                name = getattr(target, "__name__", repr(target))
                raise ConfigError(f"{name}({argument}={value!r}): {problem}")
        return parsed(*args, **kwargs)

    return cast(T, checked)
