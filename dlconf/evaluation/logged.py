"""The scalars an experiment logs, derived from its composed config, to check a sweep's metric.

An experiment does not list its metrics; they follow from what it is made of:

- each evaluation ``N`` logs what its ``evaluate`` method is annotated to return: a
  ``ScalarEntry`` as ``N``; a ``ScalarsEntry`` as ``N/<key>``, where an evaluation with an
  ``evaluate_on`` argument (ELBO, accuracy) keys by split label (``ELBO/Validation``);
  images and plots log no scalar. Each evaluation also logs ``EvaluationTime/N``.
- training logs ``Train/<component>`` for every loss component the model returns;
  ``Train/loss`` always exists, the other components are known only to the model.

Names that can only be known at run time (other loss components, the keys of an evaluation
without ``evaluate_on``) are accepted by their prefix.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, ListConfig
from omegaconf.errors import OmegaConfBaseException

from dlconf.errors import close_matches
from dlconf.evaluation.entries import ImageEntry, PlotEntry, ScalarEntry, ScalarsEntry
from dlconf.evaluation.support import split_label
from dlconf.internals import locate

TRAIN_PREFIX = "Train/"
EVALUATION_TIME_PREFIX = "EvaluationTime/"


@dataclass(frozen=True)
class LoggedScalars:
    """Scalar names an experiment logs: exactly, or under an open prefix (``Train/``)."""

    names: frozenset[str]
    prefixes: frozenset[str] = field(default_factory=frozenset[str])

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (
            name in self.names
            or any(name.startswith(p) and len(name) > len(p) for p in self.prefixes)
        )

    def describe(self) -> str:
        """The names, then each open family as ``prefix<key>``, for error messages."""
        families = (f"{prefix}<{_family(prefix)}>" for prefix in sorted(self.prefixes))
        return ", ".join([*sorted(self.names), *families])

    def unknown(self, name: str, experiment: str) -> str:
        """The message for a metric ``name`` that ``experiment`` does not log."""
        return (
            f"metric {name!r} is not logged by {experiment}"
            f"{close_matches(name, self.names)}; it logs: {self.describe()}"
        )


def logged_scalars(cfg: DictConfig) -> LoggedScalars:
    """The scalars the experiment composed in ``cfg`` logs."""
    names = {f"{TRAIN_PREFIX}loss"}
    prefixes = {TRAIN_PREFIX}
    for name in cfg.evaluation:
        names.add(f"{EVALUATION_TIME_PREFIX}{name}")
        node = cfg.evaluation[name].evaluation
        returned = _returned_entry(node)
        if returned is ScalarEntry:
            names.add(str(name))
        elif returned is ScalarsEntry:
            splits = _splits(node)
            if splits is None:
                prefixes.add(f"{name}/")
            else:
                names.update(f"{name}/{split_label(split)}" for split in splits)
        elif returned not in (ImageEntry, PlotEntry):
            # Annotated loosely (any LogEntry): it may log a scalar or grouped scalars.
            names.add(str(name))
            prefixes.add(f"{name}/")
    return LoggedScalars(frozenset(names), frozenset(prefixes))


def _returned_entry(node: DictConfig) -> Any:
    try:
        evaluation: Any = locate(str(node._target_))
        return typing.get_type_hints(evaluation.evaluate).get("return")
    except Exception:  # an unimportable or unannotated evaluation: nothing is known
        return None


def _splits(node: DictConfig) -> list[str] | None:
    if "evaluate_on" not in node:
        return None
    try:
        splits = node.evaluate_on  # resolves a link to eval_params
    except OmegaConfBaseException:
        return None
    if not isinstance(splits, ListConfig):
        return None
    return [str(split) for split in splits]


def _family(prefix: str) -> str:
    return "loss component" if prefix == TRAIN_PREFIX else "key"
