"""The bases of an experiment's ``params`` and ``eval_params``: dataclasses by construction.

Subclassing :class:`HyperParams` (or :class:`EvalSettings`) makes a class a dataclass, for
the type checkers too (PEP 681), so a forgotten ``@dataclass`` cannot happen::

    class Params(HyperParams):
        beta: float = 0.5
        \"\"\"Weight of the KL regularization.\"\"\"

The base also carries the class's place in the config: ``link(Params)`` reads as
``${params.beta}``, ``link(EvalParams)`` as ``${eval_params.elbo.every}``, and an
experiment's ``params`` must be a ``HyperParams`` instance, so a class passed instead of an
instance, or params and eval params swapped, is a type error.

What no checker sees is caught when the class is defined or an instance made, as one
:class:`~dlconf.errors.ConfigError` naming the field: a value without an annotation (it
would silently be a class attribute, not a field) and a misspelt or refused argument,
including a ``__post_init__`` check's ``ValueError``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from typing import Any, ClassVar, cast, dataclass_transform

from dlconf.durations import Duration
from dlconf.errors import ConfigError, DlconfError, close_matches
from dlconf.strict_types import is_interpolation, type_problem


def _is_plain_value(name: str, value: object) -> bool:
    """Whether a class-body entry looks like a field default (not a method or a property)."""
    if name.startswith("_"):
        return False
    return not (
        inspect.isfunction(value)
        or inspect.isclass(value)
        or isinstance(value, property | classmethod | staticmethod)
        or callable(value)
    )


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
class _SettingsMeta(type):
    """Makes every class using it a dataclass and reports construction errors in one line."""

    def __new__(
        mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> _SettingsMeta:
        annotations = namespace.get("__annotations__", {})
        for attribute, value in namespace.items():
            if attribute not in annotations and _is_plain_value(attribute, value):
                raise ConfigError(
                    f"{name}.{attribute} = {value!r} has no type annotation, so it is not a "
                    f"field: write `{attribute}: {type(value).__name__} = {value!r}`"
                )
        refuse_near_duplicates(name, bases, annotations)
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        cls = cast(_SettingsMeta, as_dataclass(cls))
        reporting_init_errors(cls)
        return cls


def as_dataclass(cls: type[Any], **options: Any) -> type[Any]:
    """``dataclasses.dataclass(cls)``, its refusals (a list default, a field without a
    default after one with) as one-line ConfigErrors naming the fix."""
    try:
        return dataclasses.dataclass(**options)(cls)
    except ValueError as error:  # "mutable default <class 'list'> for field layers ..."
        field_name = str(error).split(" for field ")[-1].split(" ")[0]
        raise ConfigError(
            f"{cls.__name__}.{field_name}: a list, dict or dataclass default is shared by every "
            f"instance; write `{field_name}: ... = field(default_factory=lambda: ...)`"
        ) from None
    except TypeError as error:  # "non-default argument 'x' follows default argument"
        raise ConfigError(
            f"{cls.__name__}: {error}; give it a default (fields with defaults come last, "
            "including those inherited)"
        ) from None


def refuse_near_duplicates(name: str, bases: tuple[type, ...], annotations: dict[str, Any]) -> None:
    """A new field one letter away from an inherited one (``z_dm`` beside ``z_dim``) is a
    typo that would leave the real field at its default."""
    inherited = {
        f.name for base in bases if dataclasses.is_dataclass(base) for f in dataclasses.fields(base)
    }
    for field_name in annotations:
        if field_name in inherited or len(field_name) < 4:
            continue
        for known in inherited:
            if _one_edit_apart(field_name, known):
                raise ConfigError(
                    f"{name} defines a new field '{field_name}' (did you mean '{known}'?): "
                    "a misspelt field would leave the real one at its default"
                )


def _one_edit_apart(a: str, b: str) -> bool:
    """One letter inserted, removed, replaced, or two neighbours swapped."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        swapped = len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]]
        return len(diffs) == 1 or (swapped and a[diffs[1]] == b[diffs[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def reporting_init_errors(cls: type[Any]) -> None:
    """Make ``cls(...)`` (and ``dataclasses.replace``) raise one-line ConfigErrors.

    The generated ``__init__`` is wrapped rather than the metaclass's ``__call__``
    overridden: type checkers read a metaclass ``__call__`` instead of the dataclass
    signature and would stop checking the arguments.
    """
    init = cls.__init__
    hints: dict[str, Any] = {}

    @functools.wraps(init)
    def checked_init(self: Any, *args: Any, **kwargs: Any) -> None:
        if not hints:  # read once, on first use: the class's module is complete by then
            hints.update(typing.get_type_hints(cls))
        for key, value in kwargs.items():
            # What a __post_init__ check would trip over with a confusing message
            # ("'<' not supported between 'str' and 'int'"), or OmegaConf would coerce.
            problem = _value_type_problem(hints.get(key, Any), value)
            if problem is not None:
                raise ConfigError(f"{cls.__name__}({key}={value!r}): {problem}")
        try:
            init(self, *args, **kwargs)
        except DlconfError:
            raise
        except TypeError as error:
            fields = [f.name for f in dataclasses.fields(cls)]
            unknown = [key for key in kwargs if key not in fields]
            if unknown:
                raise ConfigError(
                    f"{cls.__name__} has no field '{unknown[0]}'"
                    f"{close_matches(unknown[0], fields)}; its fields are: {', '.join(fields)}"
                ) from None
            raise ConfigError(f"{cls.__name__}: {error}") from None
        except ValueError as error:
            # A __post_init__ check: its message already names the setting and the fix.
            raise ConfigError(str(error)) from None

    cls.__init__ = checked_init


def _value_type_problem(annotation: Any, value: object) -> str | None:
    if isinstance(annotation, type) and issubclass(annotation, Duration):
        if isinstance(value, Duration) or is_interpolation(value):
            return None
        return "not a duration: write minutes(1), epochs(10), global_steps(500), ..."
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        if isinstance(value, annotation) or is_interpolation(value):
            return None
        return f"a {type(value).__name__}, not a {annotation.__name__}"
    return type_problem(annotation, value)


class HyperParams(metaclass=_SettingsMeta):
    """Base of an experiment's ``params``: every hyper-parameter, linked as ``${params.*}``."""

    config_key: ClassVar[str] = "params"


class EvalSettings(metaclass=_SettingsMeta):
    """Base of an experiment's ``eval_params``: evaluation rhythms and sample counts."""

    config_key: ClassVar[str] = "eval_params"


class NoEvalSettings(EvalSettings):
    """The ``eval_params`` of an experiment that has none."""
