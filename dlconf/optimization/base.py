"""The base of every optimization procedure: a LightningModule that owns model, data, counters.

An optimization decides how a model is updated: optimizers, data loaders, what one training
step does. It keeps ``counters`` (``iteration``, and e.g. generator / discriminator steps in
adversarial training) that durations such as ``evaluate every 500 iterations`` count in.
Checkpoints carry the counters and the random number generators' states, so a resumed run
counts on and draws the same random numbers as a run that was never interrupted.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar, Generic, cast

import numpy as np
import torch
from lightning.pytorch import LightningModule
from torch import Tensor, nn
from typing_extensions import TypeIs, TypeVar

from dlconf.data import DataSplits
from dlconf.errors import NonFiniteLossError

COUNTERS_KEY = "dlconf_counters"
RNG_KEY = "dlconf_rng_states"


ModelT = TypeVar("ModelT", default=Any)
"""The model's type, for the checker only: an experiment's evaluations must be able to
work with it (``ELBOEvaluation`` needs a model with ``elbo``)."""


def is_optimization(module: object) -> TypeIs[Optimization[Any]]:
    """``isinstance(module, Optimization)``, narrowing to a fully known type for checkers."""
    return isinstance(module, Optimization)


class Optimization(LightningModule, Generic[ModelT]):
    """A model, its data splits, and the counters of the procedure that trains it."""

    counter_names: ClassVar[tuple[str, ...]] = ("iteration",)
    """The counters this procedure keeps; durations may be written in any of them."""

    def __init__(self, model: nn.Module, data: DataSplits) -> None:
        super().__init__()
        self.model = model
        self.data = data
        self.counters: dict[str, int] = dict.fromkeys(self.counter_names, 0)

    def log_losses(self, losses: dict[str, Tensor]) -> Tensor:
        """Log every component as ``Train/<name>`` and return ``losses["loss"]``.

        A non-finite loss stops training here, before ``backward``: the weights (and any
        checkpoint written so far) are the last good ones.
        """
        loss = losses["loss"]
        if not bool(torch.isfinite(loss)):
            raise NonFiniteLossError(_non_finite_message(losses, self.global_step))
        for name, value in losses.items():
            self.log(f"Train/{name}", value, on_step=True, on_epoch=False)
        return loss

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[COUNTERS_KEY] = dict(self.counters)
        checkpoint[RNG_KEY] = _rng_states()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.counters.update(checkpoint.get(COUNTERS_KEY, {}))
        if RNG_KEY in checkpoint:
            _set_rng_states(checkpoint[RNG_KEY])


def _non_finite_message(losses: dict[str, Tensor], step: int) -> str:
    bad = {
        name: float(v.detach().float().mean())
        for name, v in losses.items()
        if not bool(torch.isfinite(v).all())
    }
    parts = ", ".join(f"{name}={value}" for name, value in bad.items())
    return (
        f"non-finite loss at global step {step}: {parts}. Training stopped; the last "
        "checkpoint in the run folder is from before this step. Lower params.lr, or look "
        "for a log of zero or a division by zero in the model's loss."
    )


def _rng_states() -> dict[str, Any]:
    # Plain tensors, lists and ints only: Lightning loads checkpoints with torch's
    # `weights_only` unpickler, which refuses numpy arrays.
    name, keys, position, has_gauss, cached_gaussian = cast(
        tuple[str, np.ndarray[Any, Any], int, int, float], np.random.get_state(legacy=True)
    )
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": [name, keys.tolist(), position, has_gauss, cached_gaussian],
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    name, keys, position, has_gauss, cached_gaussian = states["numpy"]
    np.random.set_state(
        (name, np.array(keys, dtype=np.uint32), position, has_gauss, cached_gaussian)
    )
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
