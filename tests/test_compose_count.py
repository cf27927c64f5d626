"""A run composes its config once; a multirun of M jobs composes 2 + 2M times.

Composing costs ~0.07-0.2 s a time (benchmarks/README.md). A plain run composes and
validates once (the one entry path). ``-m`` composes each job to check it before any job
starts, then Hydra composes its own app, its sweeper's config, and each job as it launches;
Hydra's basic sweeper would compose each job once more only to check it composes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra._internal.core_plugins import basic_sweeper
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

import experiments.mnist_vae as vae
from dlconf.runner import cli


@pytest.fixture
def compositions(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The overrides of every config Hydra composes from here on."""
    composed: list[list[str]] = []
    real = ConfigLoaderImpl.load_configuration

    def counting(self: ConfigLoaderImpl, *args: Any, **kwargs: Any) -> DictConfig:
        overrides = kwargs.get("overrides", args[1] if len(args) > 1 else [])
        composed.append(list(overrides))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ConfigLoaderImpl, "load_configuration", counting)
    GlobalHydra.instance().clear()
    return composed


def _main(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str) -> None:
    monkeypatch.chdir(tmp_path)
    common = ["data=synthetic", "logger=none", f"device.experiments_root={tmp_path / 'runs'}"]
    monkeypatch.setattr(sys, "argv", ["mnist_vae", *args, *common])
    cli.main(vae.experiment)


def test_a_run_composes_once(
    compositions: list[list[str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    trained: list[Any] = []
    monkeypatch.setattr(cli, "_train_reporting", lambda run, folder: trained.append(run))
    _main(monkeypatch, tmp_path, "params.beta=0.2")
    assert len(trained) == 1
    assert len(compositions) == 1


def test_a_multirun_composes_each_job_twice_and_checks_all_before_the_first(
    compositions: list[list[str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    betas: list[float] = []
    monkeypatch.setattr(cli, "_hydra_job", lambda cfg: betas.append(cfg.params.beta))
    _main(monkeypatch, tmp_path, "-m", "params.beta=0.1,0.2,0.3")
    assert betas == [0.1, 0.2, 0.3]
    assert len(compositions) == 2 + 2 * 3

    def beta(overrides: list[str]) -> str:
        (value,) = [o.split("=", 1)[1] for o in overrides if o.startswith("params.beta=")]
        return value

    checked, hydra_own, launched = compositions[:3], compositions[3:5], compositions[5:]
    assert [beta(c) for c in checked] == ["0.1", "0.2", "0.3"]  # all, before any job runs
    assert [beta(c) for c in hydra_own] == ["0.1,0.2,0.3"] * 2  # its app and its sweeper
    assert [beta(c) for c in launched] == ["0.1", "0.2", "0.3"]
    # The basic sweeper has its own check back for anything else that runs it.
    assert basic_sweeper.BasicSweeper.validate_batch_is_legal is not cli._checked_already
