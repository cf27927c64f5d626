"""Typed W&B sweep definitions, one module per sweep, each runnable with ``python -m``.

    python -m sweeps.mnist_vae --yaml       # the sweep config for `wandb sweep`
    python -m sweeps.mnist_vae              # check, create on W&B, print the agent command
    python -m sweeps.mnist_vae --local 5    # five trials on this machine, no W&B server

This package's name shadows W&B's sweep engine (the ``sweeps`` distribution on PyPI) for
code run from the repository root; dlconf loads the engine under another name
(:mod:`dlconf.sweeps.engine`), so import it from there, never as ``sweeps``.
"""
