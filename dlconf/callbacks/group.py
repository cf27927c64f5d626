"""Several callbacks that Lightning dispatches as one: the run's own callbacks, for less per step.

Lightning pays a fixed price for every callback on every hook call, whether the callback
implements the hook or not: a profiler context, the callback's ``state_key`` and an f-string
naming both, six hooks a training step. A dlconf run has seven callbacks of its own (one per
evaluation, ``train_for``, the non-finite guard, Ctrl-C, the save on stop); grouped, Lightning
dispatches one, and the group calls each member only for the hooks it implements
(benchmarks/README.md, "Per-step profile of the tiny VAE, round 2").

The members keep their order, so a group behaves as the same callbacks listed one after the
other. A member may implement only the hooks in :data:`FORWARDED`; any other would silently
never run, so the constructor refuses it.

Checkpoints hold each member's state under the member's own ``state_key``, inside the group's
entry. A checkpoint written before groups existed holds the same states at the top level of
``checkpoint["callbacks"]``; a group reads them from there too, so such runs resume (Lightning
warns once that the checkpoint names callbacks the trainer does not have).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from typing_extensions import override

FORWARDED = (
    "on_fit_start",
    "on_train_start",
    "on_train_batch_end",
    "on_train_epoch_end",
    "on_train_end",
    "on_exception",
    "on_save_checkpoint",
)
"""The hooks a group passes on to its members: those dlconf's own callbacks implement."""

STATEFUL = ("state_dict", "load_state_dict")
"""Handled by the group itself: members' states are nested under the group's entry."""

_Hook = Callable[..., None]
_KEY_PREFIX = "CallbackGroup{"


class CallbackGroup(Callback):
    """``callbacks``, called in order, dispatched by Lightning as one callback.

    Args:
        name: tells the group's checkpoint entry apart from another group's.
        callbacks: the members; each may implement only the hooks in :data:`FORWARDED`
            (and ``state_dict`` / ``load_state_dict``).
    """

    def __init__(self, name: str, callbacks: Sequence[Callback]) -> None:
        super().__init__()
        for callback in callbacks:
            unsupported = _overridden(callback, exclude=(*FORWARDED, *STATEFUL))
            if unsupported:
                raise ValueError(
                    f"CallbackGroup({name!r}) cannot hold {type(callback).__name__}: it "
                    f"implements {', '.join(unsupported)}, which a group does not pass on; "
                    "give it to the Trainer on its own"
                )
        self._name = name
        self._callbacks = tuple(callbacks)
        # Bound once: the group's per-step cost is a loop over the members that care.
        self._hooks: dict[str, tuple[_Hook, ...]] = {
            hook: tuple(getattr(c, hook) for c in callbacks if _overrides(c, hook))
            for hook in FORWARDED
        }
        self._batch_end = self._hooks["on_train_batch_end"]
        self._state_key = self._generate_state_key(name=name)

    @property
    def callbacks(self) -> tuple[Callback, ...]:
        """The members, in the order they are called."""
        return self._callbacks

    @property
    @override
    def state_key(self) -> str:
        return self._state_key  # formatted once: Lightning reads it on every hook call

    @override
    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        for hook in self._hooks["on_fit_start"]:
            hook(trainer, pl_module)

    @override
    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        for hook in self._hooks["on_train_start"]:
            hook(trainer, pl_module)

    @override
    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        for hook in self._batch_end:
            hook(trainer, pl_module, outputs, batch, batch_idx)

    @override
    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        for hook in self._hooks["on_train_epoch_end"]:
            hook(trainer, pl_module)

    @override
    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        for hook in self._hooks["on_train_end"]:
            hook(trainer, pl_module)

    @override
    def on_exception(
        self, trainer: Trainer, pl_module: LightningModule, exception: BaseException
    ) -> None:
        for hook in self._hooks["on_exception"]:
            hook(trainer, pl_module, exception)

    @override
    def on_save_checkpoint(
        self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        for hook in self._hooks["on_save_checkpoint"]:
            hook(trainer, pl_module, checkpoint)

    @override
    def state_dict(self) -> dict[str, Any]:
        states = {c.state_key: c.state_dict() for c in self._callbacks}
        return {key: state for key, state in states.items() if state}

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        # Loaded in on_load_checkpoint, which sees the whole checkpoint: the members' states
        # may sit outside this group's entry (checkpoints written before groups).
        del state_dict

    @override
    def on_load_checkpoint(
        self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        entries: dict[Any, Any] = checkpoint.get("callbacks") or {}
        # Each callback's state at the top level (checkpoints written before groups), then
        # any group's (a run resumed with its callbacks grouped differently), then this one's.
        states: dict[Any, Any] = dict(entries)
        for key, entry in entries.items():
            if str(key).startswith(_KEY_PREFIX) and isinstance(entry, dict):
                states.update(entry)  # pyright: ignore[reportUnknownArgumentType]
        states.update(entries.get(self._state_key) or {})
        for callback in self._callbacks:
            state = states.get(callback.state_key)
            if state:
                callback.load_state_dict(copy.deepcopy(state))


def _overrides(callback: Callback, hook: str) -> bool:
    return getattr(type(callback), hook) is not getattr(Callback, hook)


def _overridden(callback: Callback, *, exclude: Sequence[str]) -> list[str]:
    hooks = [name for name in vars(Callback) if name.startswith(("on_", "setup", "teardown"))]
    return sorted(h for h in hooks if h not in exclude and _overrides(callback, h))
