"""Typed component configs and typed links to ``params`` / ``device`` values.

A component's config is a hydra-zen ``builds(Target, populate_full_signature=True)``
dataclass. Plain hydra-zen types an instance of it as ``BuildsWithSig[...]``, which the
type checker refuses wherever a constructor wants the real object (``VAE(encoder=...)``
wants an ``Encoder``). :func:`conf` returns the same class typed as the target's own
signature, ``Callable[P, R]``: calling it is checked argument by argument, and its result
"is" an ``R`` for the checker, so configs nest exactly as the objects they build will::

    encoder = conf(MNISTEncoder)(z_dim=p.z_dim, layers=p.encoder_layers)
    model = conf(VAE)(encoder=encoder, decoder=decoder, prior=prior, beta=p.beta)

:func:`link` does the same for hyper-parameters: ``p = link(Params, "params")`` is typed as
a ``Params``, so ``p.beta`` is a ``float`` for the checker and a misspelt ``p.bta`` is an
error, while at run time ``p.beta`` is the interpolation ``"${params.beta}"``, which keeps
every hyper-parameter in one place for overrides and sweeps.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast, get_type_hints

from hydra_zen import builds
from typing_extensions import ParamSpec

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


def conf(target: Callable[P, R]) -> Callable[P, R]:
    """The config class of ``target``, typed as ``target`` itself.

    Calling the result with ``target``'s arguments gives a config instance (a dataclass
    that Hydra instantiates into ``target(...)``); the type checker sees ``R``.
    """
    return cast(Callable[P, R], _builds_of(target))


@functools.cache
def _builds_of(target: Callable[..., Any]) -> type[Any]:
    # One config class per target: the same class everywhere keeps configs comparable and
    # makes repeated `conf(X)` calls free.
    return cast(type[Any], builds(target, populate_full_signature=True))


class _Link:
    """Attribute access on a dataclass schema that yields ``${path.field}`` strings."""

    __slots__ = ("_path", "_schema")

    def __init__(self, path: str, schema: type[Any]) -> None:
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_schema", schema)

    def __getattr__(self, name: str) -> Any:
        schema: type[Any] = object.__getattribute__(self, "_schema")
        path: str = object.__getattribute__(self, "_path")
        field_types = _field_types(schema)
        if name not in field_types:
            from dlconf.errors import ConfigError, close_matches

            raise ConfigError(
                f"'{path}' has no field '{name}'{close_matches(name, field_types)}; "
                f"its fields are: {', '.join(field_types)}"
            )
        field_type = field_types[name]
        if isinstance(field_type, type) and dataclasses.is_dataclass(field_type):
            return _Link(f"{path}.{name}", field_type)
        return "${" + f"{path}.{name}" + "}"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a link is read-only: set values on the dataclass instead")

    def __repr__(self) -> str:
        return f"link({object.__getattribute__(self, '_schema').__name__}, {self._path!r})"


_FIELD_TYPES: dict[type[Any], dict[str, Any]] = {}


def _field_types(schema: type[Any]) -> dict[str, Any]:
    if schema not in _FIELD_TYPES:
        hints = get_type_hints(schema)
        _FIELD_TYPES[schema] = {f.name: hints.get(f.name, Any) for f in dataclasses.fields(schema)}
    return _FIELD_TYPES[schema]


def link(schema: type[T], path: str) -> T:
    """A stand-in for ``schema`` whose fields read as interpolations under ``path``.

    ``link(Params, "params").beta == "${params.beta}"`` at run time, and is typed as
    ``Params.beta`` for the type checker. Nested dataclass fields link further:
    ``e.elbo.every == "${eval_params.elbo.every}"``.
    """
    if not dataclasses.is_dataclass(schema):
        raise TypeError(f"link() needs a dataclass type, got {schema!r}")
    return cast(T, _Link(path, schema))


def ref(path: str, typed_as: type[T]) -> T:
    """The interpolation ``${path}``, typed as ``typed_as``: a link to a whole node."""
    del typed_as  # only the type checker reads it
    return cast(T, "${" + path + "}")
