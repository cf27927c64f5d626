"""The private APIs of Hydra and Lightning that dlconf uses, all in this one module.

Each is used because no public API does the job (the reason is beside it).
``tests/test_internals.py`` calls every one against the installed libraries, so an upgrade
that moves or changes one fails there, loudly, rather than in a user's run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hydra.core.override_parser.types import Override
from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import ModelCheckpoint


def locate(path: str) -> Any:
    """The object a ``_target_`` dot-path names, importing what it needs.

    Hydra's own lookup, ``hydra.utils.get_class``/``get_object``'s core: those public
    wrappers log an ``Error getting class at ...`` line on every failure, and
    ``get_class`` on a function target too (``logger=none``'s), beside dlconf's own message
    or where nothing is wrong. Raises ImportError or ValueError naming the path.
    """
    from hydra._internal.utils import _locate

    return _locate(path)


def split_sweep(overrides: Sequence[Override]) -> list[list[str]]:
    """The jobs of a ``-m`` sweep, one list of overrides each, as Hydra's basic sweeper
    expands them (its product of every sweep override). Hydra has no public expansion."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    batches = BasicSweeper.split_arguments(list(overrides), None)
    return [list(job) for batch in batches for job in batch]


def monitor_candidates(checkpoint: ModelCheckpoint, trainer: Trainer) -> dict[str, Any]:
    """The metrics ``checkpoint`` ranks by, as it would gather them itself.

    Used to save the best checkpoint at the end of training, a moment ModelCheckpoint does
    not save at by itself; keeping its own bookkeeping (``best_model_path``, top-k) needs
    its own methods.
    """
    return dict(checkpoint._monitor_candidates(trainer))


def save_top_k(checkpoint: ModelCheckpoint, trainer: Trainer, candidates: dict[str, Any]) -> None:
    """``checkpoint``'s own save-if-better step (see :func:`monitor_candidates`)."""
    checkpoint._save_topk_checkpoint(trainer, candidates)


def should_update_logs(trainer: Trainer) -> bool:
    """Whether Lightning writes the loggers on this step (``log_every_n_steps``).

    Logging a value on a step Lightning does not write costs as much as a small model's
    step; Lightning's own decision is only on its logger connector.
    """
    return bool(trainer._logger_connector.should_update_logs)


def uses_distributed_sampler(trainer: Trainer) -> bool:
    """``Trainer(use_distributed_sampler=...)``, which Lightning keeps only on its accelerator
    connector: an optimization batching its own data shards it the same way Lightning would."""
    return bool(trainer._accelerator_connector.use_distributed_sampler)
