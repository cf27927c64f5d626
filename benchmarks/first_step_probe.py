"""Run a module as ``python -m`` would, recording when the first optimizer step ends.

    python -m benchmarks.first_step_probe STAMP_FILE MODULE [ARGS...]

Writes ``time.time()`` at the end of the process's first ``Optimizer.step`` to
``STAMP_FILE``, then lets the module run on. ``benchmarks.first_step`` compares that to the
moment it started the process. The hook is global, so the same probe times dlconf, a bare
Lightning script and a bare PyTorch script alike.
"""

from __future__ import annotations

import runpy
import sys
import time
from typing import Any

from torch.optim.optimizer import register_optimizer_step_post_hook


def main() -> None:
    stamp_file, module, *args = sys.argv[1:]
    written = False

    def stamp(*_: Any) -> None:
        nonlocal written
        if not written:
            written = True
            with open(stamp_file, "w") as file:
                file.write(repr(time.time()))

    register_optimizer_step_post_hook(stamp)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
