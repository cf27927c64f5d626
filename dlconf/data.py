"""What data looks like to the rest of dlconf: dict samples in named splits.

A sample is a dict of tensors (``{"x": image, "y": label}``), so models name what they read
and a data set can carry more than a pair. Splits are named (``train``, ``valid``, ``test``,
or any other key an experiment needs) and handed to the optimization as one mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, TypeAlias, cast

from torch import Tensor
from torch.utils.data import Dataset

Sample: TypeAlias = dict[str, Tensor]
"""One example, e.g. ``{"x": (1, 28, 28) float, "y": () long}``."""

Batch: TypeAlias = dict[str, Tensor]
"""A collated batch of samples, e.g. ``{"x": (B, 1, 28, 28), "y": (B,)}``."""

DataSplits: TypeAlias = Mapping[str, Dataset[Sample]]
"""Named splits of one data set: ``{"train": ..., "valid": ..., "test": ...}``."""

Split: TypeAlias = Literal["train", "valid", "test"]
"""A split name, as evaluations take it (``evaluate_on=[VALID]``)."""

TRAIN: Final = "train"
VALID: Final = "valid"
TEST: Final = "test"

DATA: DataSplits = cast(DataSplits, "${data}")
"""The experiment's selected data set (the ``data`` group), for an optimization's ``data``.

Typed as :data:`DataSplits`; at run time it is the interpolation ``${data}``, so
``data=synthetic`` on the command line swaps the data set under every component using it.
"""
