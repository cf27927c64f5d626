"""Typed configs and links: what they are at run time."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest
from hydra_zen import instantiate

from dlconf import ConfigError, Device, conf, link
from dlconf.models import VAE


@dataclass
class Inner:
    every: str = "1 minute"


@dataclass
class Params:
    beta: float = 0.5
    layers: list[int] = field(default_factory=lambda: [4])
    inner: Inner = field(default_factory=Inner)


def test_link_reads_as_an_interpolation_into_its_section() -> None:
    p = link(Params, "params")
    assert p.beta == "${params.beta}"
    assert p.layers == "${params.layers}"


def test_nested_dataclass_fields_link_further() -> None:
    assert link(Params, "eval_params").inner.every == "${eval_params.inner.every}"


def test_a_misspelt_link_fails_with_the_close_name() -> None:
    with pytest.raises(ConfigError, match=r"no field 'bta' \(did you mean 'beta'\?\)"):
        _ = link(Params, "params").bta


def test_device_links_know_the_device_fields() -> None:
    assert link(Device, "device").num_workers == "${device.num_workers}"


def test_conf_is_a_hydra_zen_builds_dataclass_with_the_full_signature() -> None:
    config_class = conf(VAE)
    assert dataclasses.is_dataclass(config_class)
    assert [f.name for f in dataclasses.fields(config_class)] == [
        "_target_",
        "encoder",
        "decoder",
        "prior",
        "beta",
    ]
    assert conf(VAE) is config_class  # one class per target


def test_a_conf_instance_builds_the_target() -> None:
    from dlconf.models import Decoder, Encoder, Prior

    model = instantiate(
        conf(VAE)(encoder=conf(Encoder)(), decoder=conf(Decoder)(), prior=conf(Prior)(), beta=0.25)
    )
    assert isinstance(model, VAE)
    assert model.beta == 0.25
