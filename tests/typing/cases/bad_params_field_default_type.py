from dlconf import HyperParams


class P(HyperParams):
    z_dim: int = "64"  # expect-error
