"""Experiments, one module per experiment, each runnable with ``python -m experiments.X``."""
