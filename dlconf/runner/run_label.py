"""What tells the runs of one multirun or sweep apart: a label for the folder and W&B name.

Every run of ``-m params.beta=0.01,0.1`` has the same ``run.project`` and ``run.name``, so
without a label they land side by side as ``<date>_<time>`` folders that only their
``resolved.yaml`` tells apart. The label names what differs, in the order it was given:

- a Hydra multirun job: ``job<N>`` and the values of the swept overrides
  (``job1_beta=0.1``);
- a run a W&B agent started: the values the agent passed, all of which come from the sweep
  (``beta=0.0095_batch_size=64``);
- a trial of a local sweep (``python -m sweeps.X --local N``): ``trial<N>``.

A plain run has none. The launching process of a multirun knows which overrides sweep
(``params.beta=0.01,0.1``); each job knows only its own value, and may run in another
process (submitit), so the launcher hands the swept keys down in an environment variable.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, MutableMapping, Sequence

from dlconf.runner.agent_guard import started_by_agent

SWEPT_KEYS_ENV_VAR = "DLCONF_SWEPT_KEYS"
"""Set by a multirun's launching process: the keys its overrides sweep, comma-separated."""
SWEEP_TRIAL_ENV_VAR = "DLCONF_SWEEP_TRIAL"
"""Set by a local sweep in each trial's process: the trial's number."""

LABEL_MAX = 60
"""Long enough for three swept values; a longer label is cut and keeps a hash of the rest."""
_UNSAFE = re.compile(r"[^A-Za-z0-9_.,=+@-]+")


def hand_down_swept_keys(
    overrides: Sequence[str], environ: MutableMapping[str, str] = os.environ
) -> None:
    """Tell the jobs of a multirun of ``overrides`` (run in this process or started from
    it) which of their overrides sweep: ``params.beta`` for ``params.beta=0.01,0.1``."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    environ[SWEPT_KEYS_ENV_VAR] = ",".join(o.key_or_group for o in parsed if o.is_sweep_override())


def run_label(
    overrides: Sequence[str],
    *,
    job_number: int | None = None,
    environ: Mapping[str, str] = os.environ,
) -> str:
    """The label of a run with ``overrides``; ``job_number`` for a job of a multirun."""
    trial = environ.get(SWEEP_TRIAL_ENV_VAR, "").strip()
    if trial.isdigit():
        return f"trial{int(trial)}"
    values = _key_values(overrides)
    if job_number is not None:
        swept = [k for k in environ.get(SWEPT_KEYS_ENV_VAR, "").split(",") if k]
        chosen = {key: values[key] for key in swept if key in values}
        return _fit("_".join([f"job{job_number}", *_short_pairs(chosen)]))
    if started_by_agent(environ):
        return _fit("_".join(_short_pairs(values)))
    return ""


def _key_values(overrides: Sequence[str]) -> dict[str, str]:
    pairs = (o.split("=", 1) for o in overrides if "=" in o)
    return {key.lstrip("+~"): value for key, value in pairs}


def _short_pairs(values: Mapping[str, str]) -> list[str]:
    """``beta=0.1`` for ``params.beta=0.1``: the last part of each key, unless two share it."""
    last = [key.rsplit(".", 1)[-1] for key in values]
    return [
        f"{short if last.count(short) == 1 else key}={_safe(value)}"
        for (key, value), short in zip(values.items(), last, strict=True)
    ]


def _safe(value: str) -> str:
    """``256,128`` for ``[256,128]``: only characters a folder and a W&B name both take."""
    return _UNSAFE.sub("-", value.strip("[]()'\"")).strip("-") or "-"


def _fit(label: str) -> str:
    if len(label) <= LABEL_MAX:
        return label
    digest = hashlib.sha1(label.encode()).hexdigest()[:8]
    return f"{label[: LABEL_MAX - len(digest) - 1]}+{digest}"
