"""The experiment's dataclasses as OmegaConf can hold them, and the checks OmegaConf cannot make.

Experiment code uses types that say exactly what a field means (``Literal["min", "max"]``,
a :class:`~dlconf.durations.Duration`, a :class:`~dlconf.experiment.Metric`), but OmegaConf's
structured configs take only plain types. :func:`storable` gives an instance of a *mirror*
of the class: a subclass (so ``__post_init__`` checks still run) whose fields carry the
plain type each value is stored as. What the plain type loses is checked here instead, on
the composed config (:func:`field_problems`, for command-line values too) and on the
experiment's own instances (:func:`value_problems`, which refuses what OmegaConf would
coerce: ``z_dim="64"``, ``save_last="yes"``).
"""

from __future__ import annotations

# This module inspects values of any type on purpose (what a user wrote), so pyright's
# strict "unknown type" reports say nothing here.
# pyright: reportUnknownVariableType=false, reportUnknownArgumentType=false
import collections.abc
import dataclasses
import enum
import math
import pathlib
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, Optional, Union, cast

from omegaconf import DictConfig, ListConfig

from dlconf.durations import Duration, parse_duration
from dlconf.errors import DurationError
from dlconf.strict_types import is_interpolation, type_problem

_PLAIN = (int, float, bool, str, bytes, pathlib.Path)


def storable(instance: Any) -> Any:
    """``instance`` as an instance of its OmegaConf-safe mirror class, values made plain."""
    cls: type[Any] = type(instance)
    mirror = mirror_class(cls)
    values = {f.name: plain(getattr(instance, f.name)) for f in dataclasses.fields(instance)}
    return mirror(**values)


def plain(value: Any) -> Any:
    """``value`` with typed strings as ``str`` and dataclasses as their mirrors."""
    if isinstance(value, str):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and _is_schema(value):
        return storable(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in cast(list[Any], value)]
    if isinstance(value, dict):
        entries: dict[Any, Any] = value
        return {k: plain(v) for k, v in entries.items()}
    return value


def _is_schema(value: object) -> bool:
    # Component configs (hydra-zen builds) are stored as they are; only plain settings
    # dataclasses (params, devices, layer specs) get a mirror.
    return not hasattr(value, "_target_")


def mirror_class(cls: type[Any]) -> type[Any]:
    """A subclass of dataclass ``cls`` whose annotations OmegaConf supports (one per class)."""
    if cls not in _MIRRORS:
        _MIRRORS[cls] = _make_mirror(cls)
    return _MIRRORS[cls]


_MIRRORS: dict[type[Any], type[Any]] = {}


def _make_mirror(cls: type[Any]) -> type[Any]:
    hints = typing.get_type_hints(cls)
    fields: list[tuple[str, Any, dataclasses.Field[Any]]] = []
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            spec: dataclasses.Field[Any] = dataclasses.field(default=plain(f.default))
        elif f.default_factory is not dataclasses.MISSING:
            spec = dataclasses.field(default_factory=_plain_factory(f.default_factory))
        else:
            spec = dataclasses.field()
        fields.append((f.name, _safe(hints.get(f.name, Any)), spec))
    frozen = bool(cls.__dataclass_params__.frozen)

    def body(namespace: dict[str, Any]) -> None:
        namespace["__annotations__"] = {name: kind for name, kind, _ in fields}
        namespace.update({name: spec for name, _, spec in fields})

    # Made through the class's own metaclass (HyperParams and Device subclasses become
    # dataclasses by it); plain dataclasses are decorated here.
    mirror: type[Any] = types.new_class(cls.__name__, (cls,), {}, body)
    if "__dataclass_params__" not in mirror.__dict__:
        mirror = dataclasses.dataclass(frozen=frozen)(mirror)
    mirror.__module__ = cls.__module__
    mirror.__doc__ = cls.__doc__
    setattr(mirror, "__dlconf_schema__", cls)  # noqa: B010  (read back by schema_of)
    return mirror


def schema_of(cls: type[Any]) -> type[Any]:
    """The class a mirror was made from (``cls`` itself for any other class)."""
    schema: type[Any] = getattr(cls, "__dlconf_schema__", cls)
    return schema


def _plain_factory(factory: Callable[[], Any]) -> Callable[[], Any]:
    return lambda: plain(factory())


def _safe(annotation: Any) -> Any:
    """The plain type OmegaConf stores a value of ``annotation`` as."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _safe(args[0])
    if origin is Literal:
        kinds: set[type[Any]] = {type(a) for a in args}
        return kinds.pop() if len(kinds) == 1 else Any
    if origin in (Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            inner = _safe(rest[0])
            return Optional[inner] if len(rest) < len(args) else inner  # noqa: UP045
        return Any
    if origin in (list, tuple, collections.abc.Sequence, collections.abc.MutableSequence):
        item = args[0] if args and (origin is not tuple or _is_open_tuple(args)) else Any
        return list[_safe(item)]  # type: ignore[misc,unused-ignore]
    if origin in (dict, collections.abc.Mapping) and len(args) == 2:
        return dict[args[0], _safe(args[1])]  # type: ignore[misc,valid-type]
    if isinstance(annotation, type):
        kind: type[Any] = annotation
        if issubclass(kind, str):
            return str  # Duration, Metric, ...: stored as the text they are
        if kind in _PLAIN or issubclass(kind, enum.Enum):
            return kind
        if dataclasses.is_dataclass(kind):
            return mirror_class(kind)
    return Any


def _is_open_tuple(args: tuple[Any, ...]) -> bool:
    return len(args) == 2 and args[1] is Ellipsis


def value_problems(instance: Any, path: str) -> list[str]:
    """Fields of ``instance`` whose values do not have their annotated type (no coercion)."""
    problems: list[str] = []
    hints = typing.get_type_hints(type(instance))
    for f in dataclasses.fields(instance):
        value = getattr(instance, f.name)
        key = f"{path}.{f.name}"
        annotation = hints.get(f.name, Any)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            problems += value_problems(value, key)
            continue
        if _is_duration_type(annotation):
            if not (isinstance(value, Duration) or is_interpolation(value) or value is None):
                problems.append(
                    f"{key}={value!r} is not a duration: write minutes(1), epochs(10), "
                    "global_steps(500), ... (from dlconf.durations)"
                )
            continue
        problem = type_problem(annotation, value)
        if problem is not None:
            problems.append(f"{key}={value!r}: {problem}")
    return problems


def field_problems(
    node: DictConfig, cls: type[Any], path: str, counters: tuple[str, ...] = ()
) -> list[str]:
    """What the composed ``node`` of dataclass ``cls`` breaks that OmegaConf let through.

    ``Literal`` choices, durations that must parse, and numbers that must be finite.
    """
    problems: list[str] = []
    cls = schema_of(cls)
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name not in node or node._get_node(f.name)._is_interpolation():  # type: ignore[union-attr]
            continue
        value = node[f.name]
        key = f"{path}.{f.name}"
        annotation = hints.get(f.name, Any)
        problems += _value_problems(annotation, value, key, counters)
    return problems


def _value_problems(annotation: Any, value: Any, key: str, counters: tuple[str, ...]) -> list[str]:
    if value is None:
        return []
    inner = _without_none(annotation)
    if (
        isinstance(value, DictConfig)
        and isinstance(inner, type)
        and dataclasses.is_dataclass(inner)
    ):
        return field_problems(value, inner, key, counters)
    if isinstance(value, ListConfig):
        item = _item_type(inner)
        return [
            problem
            for index, element in enumerate(value)
            for problem in _value_problems(item, element, f"{key}.{index}", counters)
        ]
    if typing.get_origin(inner) is Literal and value not in typing.get_args(inner):
        choices = ", ".join(repr(a) for a in typing.get_args(inner))
        return [f"{key}={value!r} is not one of: {choices}"]
    if _is_duration_type(inner):
        try:
            parse_duration(str(value), counters, key=key)
        except DurationError as error:
            return [str(error)]
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{key}={value} is not a finite number: give a real value, e.g. {key}=0.1"]
    return []


def _without_none(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _item_type(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    return args[0] if args else Any


def _is_duration_type(annotation: Any) -> bool:
    inner = _without_none(annotation)
    if typing.get_origin(inner) in (Union, types.UnionType):
        return all(_is_duration_type(a) for a in typing.get_args(inner))
    return isinstance(inner, type) and issubclass(inner, Duration)
