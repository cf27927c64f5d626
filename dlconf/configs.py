"""Typed component configs and typed links to ``params`` / ``eval_params`` / ``device`` values.

A component's config is a hydra-zen ``builds(Target, populate_full_signature=True)``
dataclass. Plain hydra-zen types an instance of it as ``BuildsWithSig[...]``, which the
type checker refuses wherever a constructor wants the real object (``VAE(encoder=...)``
wants an ``Encoder``). :func:`conf` returns a maker of that config typed as the target's
own signature, ``Callable[P, R]``: calling it is checked argument by argument, and its
result "is" an ``R`` for the checker, so configs nest exactly as the objects they build::

    encoder = conf(MNISTEncoder)(z_dim=p.z_dim, layers=p.encoder_layers)
    model = conf(VAE)(encoder=encoder, decoder=decoder, prior=prior, beta=p.beta)

Calling it also checks at once what the checker cannot: a misspelt argument, a value of
the wrong type (``z_dim="64"``: no coercion), and a component built instead of configured
(``decoder=MNISTDecoder(...)`` instead of ``conf(MNISTDecoder)(...)``), each a one-line
:class:`~dlconf.errors.ConfigError` naming the target and the argument.

:func:`link` does the same for hyper-parameters: ``p = link(Params)`` is typed as a
``Params``, so ``p.beta`` is a ``float`` for the checker and a misspelt ``p.bta`` is an
error, while at run time ``p.beta`` is the interpolation ``"${params.beta}"``, which keeps
every hyper-parameter in one place for overrides and sweeps.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import pathlib
import sys
from collections.abc import Callable
from typing import Any, Generic, NoReturn, TypeVar, cast, get_type_hints

from hydra_zen import builds
from typing_extensions import ParamSpec

from dlconf.errors import ConfigError, close_matches
from dlconf.strict_types import type_problem

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


def conf(target: Callable[P, R]) -> Callable[P, R]:
    """The config maker of ``target``, typed as ``target`` itself.

    Calling the result with ``target``'s arguments gives a config instance (a dataclass
    that Hydra instantiates into ``target(...)``); the type checker sees ``R``.
    """
    return cast(Callable[P, R], _maker_of(target))


class ConfigMaker(Generic[R]):
    """Makes checked config instances of one target; :func:`conf` types it as the target."""

    def __init__(self, target: Callable[..., R]) -> None:
        self.target = target
        self.config_class: type[Any] = builds(_importable(target), populate_full_signature=True)
        self._signature = inspect.signature(target)
        self._hints = _type_hints(target)

    @property
    def name(self) -> str:
        return getattr(self.target, "__name__", repr(self.target))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            bound = self._signature.bind_partial(*args, **kwargs)
        except TypeError as error:
            self._refuse_arguments(kwargs, error)
        problems = [
            problem
            for argument, value in bound.arguments.items()
            if (problem := self._argument_problem(argument, value)) is not None
        ]
        if problems:
            raise ConfigError(problems[0])
        return self.config_class(**{k: _plain(v) for k, v in bound.arguments.items()})

    def _refuse_arguments(self, kwargs: dict[str, Any], error: TypeError) -> NoReturn:
        known = list(self._signature.parameters)
        for argument in kwargs:
            if argument not in known:
                raise ConfigError(
                    f"{self.name} has no argument '{argument}'{close_matches(argument, known)}; "
                    f"its arguments are: {', '.join(known)}"
                ) from None
        raise ConfigError(f"{self.name}: {error}") from None

    def _argument_problem(self, argument: str, value: object) -> str | None:
        if isinstance(value, _Link):
            return (
                f"{self.name}({argument}={value!r}): a link to a whole section; link one of "
                f"its fields instead ({argument}=p.<field>)"
            )
        built = _built_object(value)
        if built is not None:
            kind = type(built).__name__
            return (
                f"{self.name}({argument}=...): a {kind} was built here, in the experiment "
                f"module; configure it instead: {argument}=conf({kind})(...)"
            )
        if _holds_config(value):
            return None  # nested configs are checked by the type checker and when built
        annotation = self._hints.get(argument, Any)
        problem = type_problem(annotation, value)
        if problem is None:
            return None
        return f"{self.name}({argument}={value!r}): {problem}"


@functools.cache
def _maker_of(target: Callable[..., Any]) -> ConfigMaker[Any]:
    # One maker (and config class) per target: the same class everywhere keeps configs
    # comparable and makes repeated `conf(X)` calls cheap.
    return ConfigMaker(target)


def _importable(target: Callable[..., Any]) -> Callable[..., Any]:
    """``target`` with the module path other processes can import it from.

    A class defined in the experiment module itself is ``__main__.X`` while it runs as
    ``python -m experiments.x``; recorded as such, the run could not be reloaded from
    anywhere else. The module's real name is the one ``-m`` was given.
    """
    if getattr(target, "__module__", None) != "__main__":
        return target
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    if spec is None or not spec.name:
        raise ConfigError(
            f"{getattr(target, '__qualname__', target)} is defined in a script run by path; "
            "run the experiment as a module (python -m experiments.NAME) so its "
            "components can be found again when the run is reloaded"
        )
    # Importing the real name must give this very module, not run the experiment twice.
    sys.modules.setdefault(spec.name, sys.modules["__main__"])
    try:
        target.__module__ = spec.name
    except (AttributeError, TypeError):
        return target
    return target


def _type_hints(target: Callable[..., Any]) -> dict[str, Any]:
    function = target.__init__ if inspect.isclass(target) else target
    try:
        return get_type_hints(function)
    except Exception:  # unresolvable annotations: leave the values to pydantic
        return {}


def _plain(value: Any) -> Any:
    """Links and durations as the plain strings they are; OmegaConf keeps str subclasses
    as Python objects in untyped fields, which would reach the saved YAML."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list | tuple):
        items: list[Any] | tuple[Any, ...] = value  # pyright: ignore[reportUnknownVariableType]
        return type(items)(_plain(v) for v in items)
    if isinstance(value, dict):
        entries: dict[Any, Any] = value  # pyright: ignore[reportUnknownVariableType]
        return {k: _plain(v) for k, v in entries.items()}
    return value


def _members(value: object) -> list[Any] | None:
    """The items of a list or tuple, the values of a dict; None for anything else."""
    if isinstance(value, list | tuple):
        return list(cast(list[Any], value))
    if isinstance(value, dict):
        entries: dict[Any, Any] = value  # pyright: ignore[reportUnknownVariableType]
        return list(entries.values())
    return None


def _built_object(value: object) -> object | None:
    """A component instance (an ``nn.Module``, a ``Trainer``...) found in ``value``."""
    members = _members(value)
    if members is not None:
        return next((b for v in members if (b := _built_object(v)) is not None), None)
    plain = (str, int, float, bool, enum.Enum, pathlib.PurePath, type(None))
    if isinstance(value, plain) or dataclasses.is_dataclass(value):
        return None
    # Classes and functions are configured by hydra-zen as references (`just`).
    if inspect.isclass(value) or inspect.isroutine(value) or isinstance(value, functools.partial):
        return None
    return value


def _holds_config(value: object) -> bool:
    members = _members(value)
    if members is not None:
        return any(_holds_config(v) for v in members)
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


class LinkValue(str):
    """The interpolation a link field reads as: ``"${params.beta}"``.

    A str for OmegaConf, but not a number: arithmetic or comparison in the experiment
    module (``p.beta / 10``, ``2 * e.samples.n_samples``, which would silently repeat the
    string) fails at once with what to write instead.
    """

    def _refuse(self, *_: object) -> NoReturn:
        raise ConfigError(
            f"{self} is a link, not a value: it is filled in when the run starts, so "
            "nothing in the experiment module can compute with it (arithmetic such as "
            "p.beta / 10, or a component built here instead of configured with "
            "conf(...)). Give the component the link itself, or add a params field for "
            "the derived value"
        )

    __mul__ = __rmul__ = __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _refuse  # pyright: ignore[reportAssignmentType]
    __sub__ = __rsub__ = __pow__ = __rpow__ = __neg__ = __pos__ = __abs__ = _refuse
    __lt__ = __le__ = __gt__ = __ge__ = __radd__ = __rmod__ = _refuse  # pyright: ignore[reportAssignmentType]
    __float__ = __int__ = __round__ = _refuse
    # Indexing (`p.layers[0]`) or iterating would read the characters of "${params.layers}".
    __getitem__ = __iter__ = _refuse  # pyright: ignore[reportAssignmentType]

    def __add__(self, other: object) -> str:
        if not isinstance(other, str):
            self._refuse()
        return str.__add__(self, other)  # text around a link is a valid interpolation

    def __mod__(self, other: object) -> NoReturn:
        self._refuse()


class _Link:
    """Attribute access on a dataclass schema that yields ``${path.field}`` strings."""

    __slots__ = ("_path", "_schema")

    def __init__(self, path: str, schema: type[Any]) -> None:
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_schema", schema)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # a library probing the object (OmegaConf, copy, pickle)
            raise AttributeError(name)
        schema: type[Any] = object.__getattribute__(self, "_schema")
        path: str = object.__getattribute__(self, "_path")
        field_types = _field_types(schema)
        if name not in field_types:
            raise ConfigError(
                f"'{path}' has no field '{name}'{close_matches(name, field_types)}; "
                f"its fields are: {', '.join(field_types)}"
            )
        field_type = field_types[name]
        if isinstance(field_type, type) and dataclasses.is_dataclass(field_type):
            return _Link(f"{path}.{name}", field_type)
        return LinkValue("${" + f"{path}.{name}" + "}")

    def __setattr__(self, name: str, value: object) -> None:
        raise ConfigError("a link is read-only: set values on the dataclass instead")

    def __repr__(self) -> str:
        return f"link({object.__getattribute__(self, '_schema').__name__})"


_FIELD_TYPES: dict[type[Any], dict[str, Any]] = {}


def _field_types(schema: type[Any]) -> dict[str, Any]:
    if schema not in _FIELD_TYPES:
        hints = get_type_hints(schema)
        _FIELD_TYPES[schema] = {f.name: hints.get(f.name, Any) for f in dataclasses.fields(schema)}
    return _FIELD_TYPES[schema]


def link(schema: type[T], path: str | None = None) -> T:
    """A stand-in for ``schema`` whose fields read as interpolations into the config.

    ``link(Params).beta == "${params.beta}"`` at run time, and is typed as ``Params.beta``
    for the type checker. The config key comes from the class: ``params`` for a
    :class:`~dlconf.HyperParams`, ``eval_params`` for :class:`~dlconf.EvalSettings`,
    ``device`` for a :class:`~dlconf.Device`; ``path`` links any other dataclass. Nested
    dataclass fields link further: ``e.elbo.every == "${eval_params.elbo.every}"``.
    """
    if not (isinstance(schema, type) and dataclasses.is_dataclass(schema)):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ConfigError(f"link() needs a dataclass type such as Params, got {schema!r}")
    key = path or getattr(schema, "config_key", None)
    if not isinstance(key, str):
        raise ConfigError(
            f"link({schema.__name__}) does not know where {schema.__name__} lives in the "
            "config: subclass HyperParams or EvalSettings, or give the path"
        )
    return cast(T, _Link(key, schema))


def ref(path: str, typed_as: type[T]) -> T:
    """The interpolation ``${path}``, typed as ``typed_as``: a link to a whole node."""
    del typed_as  # only the type checker reads it
    return cast(T, "${" + path + "}")
