"""Reloading a finished run: any of its components, with the trained weights, on this machine.

::

    model = load_run("runs/VAE_experiments/My_First_VAE/2026-11-21_18-32-33")
    encoder = load_run(folder, "optimization.model.encoder", device="laptop")
    optimization = load_run("my-team/VAE_experiments/1a2b3c4d", "optimization")  # from W&B

The run's ``config.yaml`` is the recipe: the requested component is instantiated from it as
the runner instantiated it (constructor annotations checked), with the run's links
(``${params.beta}``) intact. Its ``device`` node is the machine the run trained on; it is
replaced by *this* machine's device (``device=``, else ``DEVICE_NAME``, else the default), so
paths and hardware settings are local ones, as the seed's loading notebook did. The weights
then come from a checkpoint in ``<run>/checkpoints`` (``last``, ``best`` or a file name),
loaded strictly onto the CPU; the component is returned in eval mode (``.to(...)`` it).

Only the optimization is checkpointed: a component under ``optimization`` gets the weights
stored under its attribute path (``model.encoder.`` for ``optimization.model.encoder``);
anything else (``data``, ``evaluation.ELBO.evaluation``) is built from the config alone.

A W&B run path ``entity/project/run_id`` (anything that is not an existing local path and
has that shape) is read from the files the W&B logger saved with the run
(``run_folder/config.yaml``, ``run_folder/checkpoints/*.ckpt``), downloaded into
``$XDG_CACHE_HOME/dlconf/wandb/<entity>/<project>/<run_id>`` (``~/.cache`` by default). Online,
they are fetched again on every call; offline (``WANDB_MODE=offline`` or no credentials),
the cache is used if it holds them, so a node without network can reload what a login node
downloaded.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol, cast

import torch
from omegaconf import DictConfig, ListConfig, OmegaConf
from torch import Tensor, nn

from dlconf.callbacks.checkpoints import read_checkpoint
from dlconf.devices import Device, check_device_name, registered_devices, selected_device_name
from dlconf.errors import ConfigError, close_matches
from dlconf.optimization.base import COUNTERS_KEY, Optimization
from dlconf.runner.build import build
from dlconf.runner.cli import _import_devices
from dlconf.runner.run_folder import (
    BEST,
    CHECKPOINT_DIR,
    CONFIG_FILE,
    LAST,
    LAST_CHECKPOINT,
    RunFolder,
)

__all__ = ["load_run"]

OPTIMIZATION = "optimization"
"""The config key of the LightningModule whose ``state_dict`` the checkpoints hold."""

_WANDB_RUN_PATH = re.compile(r"(?P<entity>[^/\s]+)/(?P<project>[^/\s]+)/(?:runs/)?(?P<run>[^/\s]+)")
_MISSING = object()
_RUN_FOLDER_HINT = (
    "; give a run folder (<experiments_root>/<project>/<name>/<date>_<time>) "
    "or a W&B run path entity/project/run_id"
)


def load_run(
    source: str | Path,
    component: str = "optimization.model",
    *,
    device: str | Device | None = None,
    checkpoint: str = LAST,
) -> Any:
    """Rebuild ``component`` of the run at ``source`` with its trained weights, on this machine.

    Args:
        source: a run folder (``<experiments_root>/<project>/<name>/<date>_<time>``), or a
            W&B run path ``entity/project/run_id`` of a run logged with the W&B logger.
        component: the config path of what to build: ``"optimization.model"`` (the
            default), a part of it (``"optimization.model.encoder"``), or
            ``"optimization"`` for the whole optimization with its data and counters.
        device: this machine: a registered device name (``"laptop"``), or a
            :class:`~dlconf.Device` instance for values of its own
            (``Laptop(data_root="/scratch/data")``). ``None`` reads ``DEVICE_NAME``, else
            uses the default device.
        checkpoint: ``"last"`` (the run's newest state), ``"best"`` (the one kept by
            ``checkpoint.monitor``), or a file name in the run's ``checkpoints`` folder
            (``"best-2000.ckpt"``).

    Returns:
        The built component on the CPU, in eval mode when it is a module.

    Raises:
        ConfigError: no such run folder or W&B run, no such checkpoint, an unknown
            component path or device, or weights that do not fit the built component.
    """
    folder = _run_folder(source, checkpoint)
    cfg = _read_config(folder.path)
    cfg.device = _device_node(device)
    node = _component_node(cfg, component, folder.path)
    prefix = _state_prefix(component)
    # Found before building, which may read a whole data set, so a wrong name fails at once.
    path = None if prefix is None else folder.checkpoint(checkpoint)
    # Building initializes weights that are overwritten at once; restoring the generator
    # leaves the caller's random stream where it was (a seeded script samples the same).
    rng = torch.get_rng_state()
    try:
        built = build(node, component)
    finally:
        torch.set_rng_state(rng)
    if prefix is not None and path is not None and isinstance(built, nn.Module):
        _load_weights(built, prefix, read_checkpoint(path), path, component)
    if isinstance(built, nn.Module):
        built.eval()
    return built


# --- the run folder ------------------------------------------------------------------------


def _run_folder(source: str | Path, checkpoint: str) -> RunFolder:
    path = Path(source).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ConfigError(f"{path} is a file, not a run folder{_RUN_FOLDER_HINT}")
        return RunFolder(path)
    match = _WANDB_RUN_PATH.fullmatch(str(source)) if isinstance(source, str) else None
    if match is None or str(source).startswith((".", "/", "~")):
        raise ConfigError(f"no run folder at {path}{_RUN_FOLDER_HINT}")
    return RunFolder(
        _download_from_wandb(match["entity"], match["project"], match["run"], checkpoint)
    )


def _read_config(folder: Path) -> DictConfig:
    config_file = RunFolder(folder).config_file
    if not config_file.is_file():
        runs = sorted(run.path.name for run in RunFolder.runs_in(folder))
        inside = f" (the runs in it: {', '.join(runs)})" if runs else ""
        raise ConfigError(
            f"{folder} holds no {CONFIG_FILE}, so it is not a run folder{inside}{_RUN_FOLDER_HINT}"
        )
    cfg = OmegaConf.load(config_file)
    if not isinstance(cfg, DictConfig):
        raise ConfigError(f"{config_file} is not a dlconf run config (not a mapping)")
    return cfg


# --- this machine --------------------------------------------------------------------------


def _device_node(device: str | Device | None) -> DictConfig:
    """This machine's device as a config node, in place of the one the run recorded."""
    _import_devices()  # registers the project's devices, as the command line does
    # Imported here: the runner's store imports this module's neighbours.
    from dlconf.runner.store import device_node

    if isinstance(device, Device):
        return device_node(device)
    if device is None:
        name = selected_device_name()
    else:
        check_device_name(device, source=f"load_run(device={device!r})")
        name = device
    return device_node(registered_devices()[name])


# --- the component -------------------------------------------------------------------------


def _component_node(cfg: DictConfig, component: str, folder: Path) -> DictConfig | ListConfig:
    node = OmegaConf.select(cfg, component, default=_MISSING) if component else _MISSING
    if isinstance(node, DictConfig | ListConfig):
        return node
    known = list(_components(OmegaConf.to_container(cfg, resolve=False)))
    what = "names a value, not a component" if node is not _MISSING else "is not in the run"
    raise ConfigError(
        f"component {component!r} {what}{close_matches(component, known)}; "
        f"the components of {folder / CONFIG_FILE}: {', '.join(known)}"
    )


def _components(node: object, path: str = "") -> Iterator[str]:
    """The dotted paths of every buildable node (one with a ``_target_``) under ``node``."""
    if isinstance(node, dict):
        mapping = cast(dict[str, object], node)
        if "_target_" in mapping and path:
            yield path
        for key, child in mapping.items():
            yield from _components(child, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, child in enumerate(cast(list[object], node)):
            yield from _components(child, f"{path}.{index}")


def _state_prefix(component: str) -> str | None:
    """The ``state_dict`` key prefix of ``component`` in a checkpoint; None if it has none.

    The checkpoint is the optimization's ``state_dict``, whose keys are attribute paths
    (``model.encoder.net.0.weight``), and config paths follow constructor arguments, which
    the components keep under the same names.
    """
    if component == OPTIMIZATION:
        return ""
    if component.startswith(OPTIMIZATION + "."):
        return component.removeprefix(OPTIMIZATION + ".") + "."
    return None


# --- the weights ---------------------------------------------------------------------------


def _load_weights(
    module: nn.Module, prefix: str, checkpoint: dict[str, Any], path: Path, component: str
) -> None:
    state = cast(dict[str, Tensor], checkpoint["state_dict"])
    weights = {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}
    try:
        module.load_state_dict(weights, strict=True)
    except RuntimeError as error:
        # Strict on purpose: a key that fits nothing means the code changed since the run
        # (or the path names another module), and half-loaded weights would go unnoticed.
        details = " ".join(line.strip() for line in str(error).splitlines()[:4])
        raise ConfigError(
            f"the weights in {path} do not fit {component} as {CONFIG_FILE} builds it "
            f"(has its code changed since the run?): {details}"
        ) from None
    if isinstance(module, Optimization):
        module.counters.update(cast(dict[str, int], checkpoint.get(COUNTERS_KEY, {})))


# --- W&B -----------------------------------------------------------------------------------


class _WandbFile(Protocol):
    """The part of ``wandb.apis.public.File`` used here."""

    @property
    def name(self) -> str: ...

    def download(self, root: str = ".", replace: bool = False, exist_ok: bool = False) -> Any: ...


class _WandbRun(Protocol):
    """The part of ``wandb.apis.public.Run`` used here."""

    def files(self) -> Iterable[_WandbFile]: ...


def _download_from_wandb(entity: str, project: str, run_id: str, checkpoint: str) -> Path:
    """The run folder's files saved with a W&B run, in a local cache folder."""
    from dlconf.loggers.wandb import RUN_FOLDER_FILES, has_credentials

    run_path = f"{entity}/{project}/{run_id}"
    cache = _cache_root() / "wandb" / entity / project / run_id
    folder = cache / RUN_FOLDER_FILES
    mode = os.environ.get("WANDB_MODE", "")
    no_network = mode in ("offline", "disabled", "dryrun")
    if no_network or not has_credentials(os.environ):
        if (folder / CONFIG_FILE).is_file() and _has_checkpoint(folder, checkpoint):
            return folder
        reason = (
            f"WANDB_MODE={mode}"
            if no_network
            else "no W&B credentials (WANDB_API_KEY or `wandb login`)"
        )
        raise ConfigError(
            f"{run_path!r} is not a folder here, so it names a W&B run; it cannot be downloaded: "
            f"{reason}, and the cache {cache} does not hold it. Reload it on a machine with "
            "network and W&B credentials, or copy its run folder here and pass that folder."
        )
    wanted = {f"{RUN_FOLDER_FILES}/{CONFIG_FILE}"}
    try:
        import wandb

        run = cast(_WandbRun, wandb.Api(timeout=30).run(run_path))
        files = {file.name: file for file in run.files()}
        prefix = f"{RUN_FOLDER_FILES}/{CHECKPOINT_DIR}/"
        wanted |= _wanted_checkpoints(files, prefix, checkpoint)
        # A checkpoint the run no longer has (an older best-<step>) would make "best"
        # ambiguous here: the cache mirrors the run as it is now.
        for stale in RunFolder(folder).checkpoint_files():
            if prefix + stale.name not in files:
                stale.unlink()
        for name in sorted(wanted & files.keys()):
            files[name].download(root=str(cache), replace=True).close()
    except Exception as error:  # W&B raises its own, requests' and wandb-core's errors alike
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(f"cannot download the W&B run {run_path}: {first}") from None
    if f"{RUN_FOLDER_FILES}/{CONFIG_FILE}" not in files:
        raise ConfigError(
            f"the W&B run {run_path} has no {RUN_FOLDER_FILES}/{CONFIG_FILE}: it was not "
            "logged by dlconf's W&B logger"
        )
    return folder


def _wanted_checkpoints(files: Iterable[str], prefix: str, checkpoint: str) -> set[str]:
    names = {name.removeprefix(prefix) for name in files if name.startswith(prefix)}
    if checkpoint == LAST:
        keep = {LAST_CHECKPOINT}
    elif checkpoint == BEST:
        keep = {name for name in names if RunFolder.is_best(name)}
    else:
        keep = {checkpoint}
    return {prefix + name for name in keep}


def _has_checkpoint(folder: Path, checkpoint: str) -> bool:
    run = RunFolder(folder)
    if checkpoint == LAST:
        return run.last_checkpoint.is_file()
    if checkpoint == BEST:
        return any(RunFolder.is_best(p.name) for p in run.checkpoint_files())
    return (run.checkpoint_dir / checkpoint).is_file()


def _cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dlconf"
