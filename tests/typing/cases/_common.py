"""Shared pieces of the typing cases: a params dataclass and its links."""

from dataclasses import dataclass, field

from dlconf import Device, link


@dataclass
class Params:
    z_dim: int = 8
    beta: float = 0.5
    lr: float = 1e-3
    batch_size: int = 32
    encoder_layers: list[int] = field(default_factory=lambda: [16])
    decoder_layers: list[int] = field(default_factory=lambda: [16])


p = link(Params, "params")
d = link(Device, "device")
