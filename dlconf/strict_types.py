"""Does a value have the type an annotation names, without any conversion?

Pydantic and OmegaConf both *coerce*: ``"64"`` becomes an int, ``"yes"`` and ``1`` become
``True``, ``2.0`` becomes ``2``. For configuration that hides real mistakes
(``z_dim="64"``, ``pin_memory=d.num_workers``), so dlconf checks the plain types itself
before either library sees a value. Only what can be judged without guessing is judged:
scalars, ``Literal``, unions, and the containers around them; any other annotation (a
class such as ``nn.Module``) is left to pydantic's ``isinstance`` check.
"""

from __future__ import annotations

# This module inspects values of any type on purpose (what a user wrote), so pyright's
# strict "unknown type" reports say nothing here.
# pyright: reportUnknownVariableType=false, reportUnknownArgumentType=false
import collections.abc
import types
import typing
from typing import Any, Literal, Union, cast

_INTERPOLATION = "${"


def is_interpolation(value: object) -> bool:
    """A value resolved later by OmegaConf (a link such as ``${params.beta}``)."""
    return isinstance(value, str) and _INTERPOLATION in value


def type_problem(annotation: Any, value: object) -> str | None:
    """Why ``value`` does not have type ``annotation`` (e.g. ``"a str, not an int"``), or None."""
    if annotation is Any or is_interpolation(value):
        return None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        if value in args:
            return None
        return f"{value!r} is not one of {', '.join(repr(a) for a in args)}"
    if origin in (Union, types.UnionType):
        problems = [type_problem(arg, value) for arg in args]
        if any(problem is None for problem in problems):
            return None
        return f"{_kind(value)}, not {describe_type(annotation)}"
    if origin is typing.Annotated:
        return type_problem(args[0], value)
    if annotation in (int, float, bool, str) or annotation is type(None):
        return (
            None
            if _scalar_fits(annotation, value)
            else f"{_kind(value)}, not {describe_type(annotation)}"
        )
    if origin in (list, collections.abc.Sequence, collections.abc.MutableSequence, tuple):
        if isinstance(value, str) or not isinstance(value, list | tuple):
            return f"{_kind(value)}, not {describe_type(annotation)}"
        items = list(cast(list[Any], value))
        item_types = _item_types(origin, args, len(items))
        for index, (item_type, item) in enumerate(zip(item_types, items, strict=False)):
            problem = type_problem(item_type, item)
            if problem is not None:
                return f"item {index}: {problem}"
        return None
    if origin in (dict, collections.abc.Mapping) and args:
        if not isinstance(value, dict):
            return f"{_kind(value)}, not {describe_type(annotation)}"
        entries: dict[Any, Any] = value
        for key, item in entries.items():
            problem = type_problem(args[1], item)
            if problem is not None:
                return f"[{key!r}]: {problem}"
        return None
    return None  # a class or a protocol: pydantic checks instances


def _scalar_fits(annotation: Any, value: object) -> bool:
    if annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:  # an int is a float where a quantity is meant (lr=1)
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)


def _item_types(origin: Any, args: tuple[Any, ...], length: int) -> list[Any]:
    if not args:
        return [Any] * length
    if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return list(args)
    return [args[0]] * length


def _kind(value: object) -> str:
    if value is None:
        return "None"
    article = "an" if type(value).__name__[0] in "aeiou" else "a"
    return f"{article} {type(value).__name__}"


def describe_type(annotation: Any) -> str:
    """``an int``, ``a str``, ``list[int]``: how an annotation reads in a message."""
    if annotation is type(None):
        return "None"
    if isinstance(annotation, type):
        article = "an" if annotation.__name__[0] in "aeiou" else "a"
        return f"{article} {annotation.__name__}"
    return str(annotation).replace("typing.", "").replace("collections.abc.", "")
