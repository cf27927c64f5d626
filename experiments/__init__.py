"""Experiments, one module per experiment, each runnable with ``python -m experiments.X``.

Python imports this package before it runs ``X``: a ``--help`` or a misspelt key that an
earlier run of the same code answered is answered here, in milliseconds, instead of after
torch and Lightning are imported (:mod:`dlconf.runner.answer_cache`, which says when).
"""

import sys

if sys.argv[:1] == ["-m"]:  # Python is locating `python -m experiments.X`
    import importlib.util
    import os

    from types import ModuleType

    def _load_answer_cache() -> ModuleType | None:
        # By its path: `import dlconf.runner...` would first import dlconf, and with it torch.
        # The runner's own import later finds this module in sys.modules.
        name = "dlconf.runner.answer_cache"
        dlconf = importlib.util.find_spec("dlconf")
        folders = (dlconf and dlconf.submodule_search_locations) or []
        spec = folders and importlib.util.spec_from_file_location(
            name, os.path.join(folders[0], "runner", "answer_cache.py")
        )
        if not spec or spec.loader is None or name in sys.modules:
            return None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    _answer_cache = _load_answer_cache()
    if _answer_cache is not None:
        _answer_cache.answer_early(__name__)
