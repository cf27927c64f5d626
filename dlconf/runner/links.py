"""Links whose target has another type than the field they fill.

OmegaConf converts an interpolation's value to the type of the node it fills: a component
argument typed ``bool`` linked to ``${device.num_workers}`` silently becomes ``False`` when
the worker count is 0. The checker sees such a link too (``pin_memory=d.num_workers`` is a
type error), but an unchecked module, or a link edited on the command line, reaches the
run; this finds each one in the composed config before anything is built.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from omegaconf.nodes import BooleanNode, FloatNode, IntegerNode, StringNode, ValueNode

from dlconf.strict_types import type_problem

COMPONENT_SECTIONS = ("optimization", "evaluation", "data", "callbacks", "trainer")
"""Where component configs (typed by their constructors) live."""

_NODE_TYPES: dict[type[ValueNode], type[Any]] = {
    IntegerNode: int,
    FloatNode: float,
    BooleanNode: bool,
    StringNode: str,
}


def link_type_problems(cfg: DictConfig) -> list[str]:
    """Each typed component field whose one-link value resolves to another type."""
    problems: list[str] = []
    for section in COMPONENT_SECTIONS:
        node = cfg._get_node(section)
        if isinstance(node, DictConfig | ListConfig):
            problems += _walk(cfg, node, section)
    return problems


def _walk(cfg: DictConfig, node: DictConfig | ListConfig, path: str) -> list[str]:
    problems: list[str] = []
    keys: list[Any] = list(range(len(node))) if isinstance(node, ListConfig) else list(node.keys())
    for key in keys:
        child = node._get_node(key)
        where = f"{path}.{key}"
        if isinstance(child, DictConfig | ListConfig):
            if not child._is_interpolation():
                problems += _walk(cfg, child, where)
            continue
        if not isinstance(child, ValueNode):
            continue
        expected = _NODE_TYPES.get(type(child))
        if expected is None or not child._is_interpolation():
            continue
        target = _single_link(str(child._value()))
        if target is None:
            continue
        try:
            value = OmegaConf.select(cfg, target, throw_on_missing=False)
        except OmegaConfBaseException:
            continue  # reported by the interpolation check
        if value is None or isinstance(value, DictConfig | ListConfig):
            continue
        problem = type_problem(expected, value)
        if problem is not None:
            problems.append(
                f"{where}=${{{target}}} links {problem}: link a field of the right type"
            )
    return problems


def _single_link(text: str) -> str | None:
    """``"params.beta"`` for ``"${params.beta}"``; None for anything else (resolvers, text)."""
    if not (text.startswith("${") and text.endswith("}")) or text.count("${") != 1:
        return None
    inner = text[2:-1]
    return None if ":" in inner else inner
