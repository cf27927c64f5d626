"""DDP ranks that Lightning starts: finding what they were started with.

For ranks > 0 on a machine, Lightning's subprocess launcher runs this program's command line
again with three Hydra overrides of its own appended (``hydra.run.dir="<rank 0's Hydra run
dir>"``, ``hydra.job.name=train_ddp_process_<N>``, ``hydra.output_subdir=null``) and
``LOCAL_RANK`` set. The runner makes Hydra's run dir the run folder, so a rank > 0 learns the
folder from what Lightning already passes, and the user's own overrides are the rest.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

RUN_DIR = "hydra.run.dir="
JOB_NAME = "hydra.job.name=train_ddp_process_"
NO_OUTPUT_SUBDIR = "hydra.output_subdir=null"


@dataclass(frozen=True)
class LightningRank:
    """A process Lightning started for a DDP rank > 0."""

    args: list[str]
    """The user's command-line arguments, as rank 0 got them."""
    run_dir: Path


def lightning_rank(
    argv: Sequence[str], environ: Mapping[str, str] = os.environ
) -> LightningRank | None:
    """What Lightning started this process with, if it started it; else None."""
    if environ.get("LOCAL_RANK", "0") == "0" or len(argv) < 3:
        return None
    run_dir, job_name, subdir = argv[-3:]
    if not (
        run_dir.startswith(RUN_DIR) and job_name.startswith(JOB_NAME) and subdir == NO_OUTPUT_SUBDIR
    ):
        return None
    return LightningRank(list(argv[:-3]), Path(run_dir.removeprefix(RUN_DIR).strip('"')))
