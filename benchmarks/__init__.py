"""Measured comparisons: each module is a script that prints a table of ratios.

    python -m benchmarks.step_overhead   # dlconf's step vs a hand-written loop
    python -m benchmarks.data_path       # batching by index vs torchvision's per-sample path
    python -m benchmarks.first_step      # process start to first step vs bare Lightning
    python -m benchmarks.config_cost     # compose + validate + instantiate; sweeps of M jobs
    python -m benchmarks.logging_tax     # samples/s with TensorBoard / W&B vs no logger
    python -m benchmarks.gpu             # on a CUDA GPU: hand loop vs dlconf, CelebA loader

Every one takes ``--quick`` (seconds, to check it runs) and ``--repeats N``. The latest
tables, with the machine and the date, are in ``benchmarks/README.md``.
"""
