"""Typed configs and links: what they are at run time, and what they refuse at once."""

from __future__ import annotations

import dataclasses
from dataclasses import field

import pytest
from hydra_zen import instantiate
from lightning.pytorch import Trainer

from dlconf import (
    VALID,
    ConfigError,
    Device,
    Duration,
    EvalSettings,
    Evaluate,
    Experiment,
    HyperParams,
    conf,
    global_steps,
    link,
    minutes,
    train_loss,
)
from dlconf.evaluation import ELBOEvaluation, ImageSampleEvaluation
from dlconf.models import VAE, Decoder, Encoder, Prior
from experiments.mnist.architectures import MNISTDecoder, MNISTEncoder
from experiments.mnist.configs import MNIST_DATA, batch_adam


class Inner(EvalSettings):
    every: Duration = minutes(1)


class Params(HyperParams):
    beta: float = 0.5
    layers: list[int] = field(default_factory=lambda: [4])


class Settings(EvalSettings):
    inner: Inner = field(default_factory=Inner)


def test_link_reads_as_an_interpolation_into_its_section() -> None:
    p = link(Params)
    assert p.beta == "${params.beta}"
    assert p.layers == "${params.layers}"


def test_the_section_comes_from_the_base_class() -> None:
    assert link(Settings).inner.every == "${eval_params.inner.every}"
    assert link(Device).num_workers == "${device.num_workers}"


def test_a_misspelt_link_fails_with_the_close_name() -> None:
    with pytest.raises(ConfigError, match=r"no field 'bta' \(did you mean 'beta'\?\)"):
        _ = link(Params).bta


@pytest.mark.parametrize(
    "compute",
    [
        lambda p: p.beta / 10,
        lambda p: 2 * p.beta,  # str * int would silently repeat the interpolation
        lambda p: p.beta * 2,
        lambda p: p.beta + 1,
        lambda p: 1 - p.beta,
        lambda p: p.beta > 0,
        lambda p: -p.beta,
    ],
)
def test_computing_with_a_link_fails_with_what_to_write(compute: object) -> None:
    with pytest.raises(ConfigError, match="is a link, not a value"):
        compute(link(Params))  # type: ignore[operator]


def test_text_around_a_link_stays_an_interpolation() -> None:
    assert link(Params).beta + "-run" == "${params.beta}-run"


def test_conf_makes_hydra_zen_builds_configs_with_the_full_signature() -> None:
    maker = conf(VAE)
    config = maker(encoder=conf(Encoder)(), decoder=conf(Decoder)(), prior=conf(Prior)(), beta=0.2)
    assert dataclasses.is_dataclass(config)
    assert [f.name for f in dataclasses.fields(config)] == [
        "_target_",
        "encoder",
        "decoder",
        "prior",
        "beta",
    ]
    assert conf(VAE) is maker  # one maker, one config class per target
    model = instantiate(config)
    assert isinstance(model, VAE)
    assert model.beta == 0.2


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: conf(MNISTDecoder)(z_dm=8, layers=[4]),  # type: ignore[call-arg]
            "MNISTDecoder has no argument 'z_dm' (did you mean 'z_dim'?)",
        ),
        (
            lambda: conf(MNISTEncoder)(z_dim="64", layers=[4]),  # type: ignore[arg-type]
            "MNISTEncoder(z_dim='64'): a str, not an int",
        ),
        (
            lambda: conf(MNISTEncoder)(z_dim=8, layers=[4, "8"]),  # type: ignore[list-item]
            "MNISTEncoder(layers=[4, '8']): item 1: a str, not an int",
        ),
        (
            lambda: conf(ELBOEvaluation)(evaluate_on="valid"),  # type: ignore[arg-type]
            "ELBOEvaluation(evaluate_on='valid'): a str, not Sequence",
        ),
        (
            lambda: conf(VAE)(
                encoder=conf(Encoder)(),
                decoder=MNISTDecoder(z_dim=2, layers=[4]),
                prior=conf(Prior)(),
                beta=1.0,
            ),
            "VAE(decoder=...): a MNISTDecoder was built here, in the experiment module; "
            "configure it instead: decoder=conf(MNISTDecoder)(...)",
        ),
    ],
)
def test_conf_refuses_at_once_what_would_fail_or_be_coerced_later(
    make: object, message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        make()  # type: ignore[operator]
    assert message in str(error.value)


def test_conf_accepts_links_for_any_type() -> None:
    config = conf(MNISTEncoder)(z_dim=link(Params).layers, layers=link(Params).layers)  # type: ignore[arg-type]
    assert config.z_dim == "${params.layers}"
    assert type(config.z_dim) is str  # plain, so the saved YAML holds no Python tags


def test_params_are_dataclasses_that_refuse_in_one_line() -> None:
    assert dataclasses.is_dataclass(Params)
    with pytest.raises(ConfigError, match=r"Params has no field 'bta' \(did you mean 'beta'\?\)"):
        Params(bta=1.0)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match=r"Params has no field 'bta'"):
        dataclasses.replace(Params(), bta=1.0)  # type: ignore[call-arg]


def test_a_params_value_without_annotation_is_refused_where_it_is_written() -> None:
    with pytest.raises(ConfigError, match=r"Typo.beta = 0.5 has no type annotation.*beta: float"):

        class Typo(HyperParams):
            beta = 0.5


def test_a_post_init_check_is_a_config_error() -> None:
    class Checked(HyperParams):
        z_dim: int = 8

        def __post_init__(self) -> None:
            if self.z_dim < 1:
                raise ValueError("params.z_dim must be >= 1")

    with pytest.raises(ConfigError, match=r"params\.z_dim must be >= 1"):
        Checked(z_dim=0)


def _experiment(**changes: object) -> Experiment[Params, Settings]:
    p = link(Params)
    model = conf(VAE)(
        encoder=conf(MNISTEncoder)(z_dim=2, layers=p.layers),
        decoder=conf(MNISTDecoder)(z_dim=2, layers=p.layers),
        prior=conf(Prior)(),
        beta=p.beta,
    )
    elbo = Evaluate("ELBO", conf(ELBOEvaluation)(), every=global_steps(5))
    arguments: dict[str, object] = {
        "name": "t",
        "params": Params(),
        "eval_params": Settings(),
        "data": MNIST_DATA,
        "optimization": batch_adam(model),
        "evaluation": [elbo],
    }
    return Experiment(**{**arguments, **changes})  # type: ignore[arg-type]


def test_an_experiment_takes_its_default_data_from_the_first_data_set() -> None:
    assert _experiment().default_data == "mnist"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"default_data": "MNIST"}, "default_data='MNIST' is not one of its data sets"),
        ({"params": Params}, "params=<class"),
        ({"params": Settings()}, "must be an instance of a HyperParams subclass"),
        ({"trainer": Trainer(logger=False)}, "a Trainer was built here"),
        ({"train_for": "10 epochs"}, "train_for='10 epochs' is not a duration"),
        ({"seed": None}, "seed=None must be a whole number"),
        ({"evaluation": {"ELBO": None}}, "evaluation is a list of Evaluate"),
    ],
)
def test_an_experiment_refuses_what_the_checker_would(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        _experiment(**changes)
    assert message in str(error.value)


def test_a_monitor_must_come_from_the_experiments_own_evaluations() -> None:
    from dlconf import Checkpoint

    other = Evaluate("Renamed", conf(ELBOEvaluation)(), every=minutes(1))
    with pytest.raises(ConfigError, match="an evaluation named 'Renamed', which this experiment"):
        _experiment(checkpoint=Checkpoint(monitor=other.on(VALID)))
    _experiment(checkpoint=Checkpoint(monitor=train_loss()))  # the loss is always logged


def test_metrics_name_what_they_log_and_which_way_is_better() -> None:
    elbo = Evaluate("ELBO", conf(ELBOEvaluation)(), every=minutes(1))
    metric = elbo.on(VALID)
    assert metric == "ELBO/Validation"
    assert (metric.goal, metric.mode) == ("maximize", "max")
    assert (train_loss().goal, str(train_loss())) == ("minimize", "Train/loss")
    samples = Evaluate("Samples", conf(ImageSampleEvaluation)(), every=minutes(1))
    assert samples.name == "Samples"


def test_a_params_value_of_the_wrong_type_is_refused_before_post_init_compares_it() -> None:
    with pytest.raises(ConfigError, match=r"Settings\(inner='x'\)"):
        Settings(inner="x")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"Inner\(every='1 minute'\): not a duration"):
        Inner(every="1 minute")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"Params\(beta='0.5'\): a str, not a float"):
        Params(beta="0.5")  # type: ignore[arg-type]


def test_a_whole_section_link_given_as_a_value_says_to_link_a_field() -> None:
    with pytest.raises(ConfigError, match="a link to a whole section; link one of its fields"):
        conf(VAE)(
            encoder=conf(Encoder)(), decoder=conf(Decoder)(), prior=conf(Prior)(), beta=link(Params)
        )  # type: ignore[arg-type]


def test_a_list_default_is_refused_with_the_default_factory_to_write() -> None:
    with pytest.raises(ConfigError, match=r"Shared.layers: a list.*field\(default_factory="):

        class Shared(HyperParams):
            layers: list[int] = [1024, 128]  # noqa: RUF012  (the mistake under test)


def test_a_field_without_default_after_defaults_says_to_give_it_one() -> None:
    with pytest.raises(ConfigError, match="give it a default"):

        class Late(Params):
            depth: int


def test_a_new_field_one_letter_from_an_inherited_one_is_a_typo() -> None:
    with pytest.raises(ConfigError, match=r"new field 'btea' \(did you mean 'beta'"):

        class Typo(Params):
            btea: float = 0.1


def test_indexing_a_link_is_refused() -> None:
    with pytest.raises(ConfigError, match="is a link, not a value"):
        _ = link(Params).layers[0]


def test_a_sweep_parameter_without_a_distribution_is_refused() -> None:
    from dlconf.sweeps import Sweep, vary
    from experiments.mnist_vae import elbo, experiment

    with pytest.raises(ConfigError, match=r"has no distribution: write vary\(p.beta\).over"):
        Sweep(
            experiment=experiment,
            method="grid",
            metric=elbo.on(VALID),
            parameters=[vary(experiment.param_links.beta)],  # type: ignore[list-item]
        )
