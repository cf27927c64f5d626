"""Experiments, one module per experiment, each runnable with ``python -m experiments.X``.

Python imports this package before it runs ``X``: a ``--help`` or a misspelt key that an
earlier run of the same code answered is answered here, in milliseconds, instead of after
torch and Lightning are imported (:mod:`dlconf.runner.answer_cache`, which says when).
"""

import sys

if sys.argv[:1] == ["-m"] and sys.argv[1:]:  # locating `python -m experiments.X ARGS`
    import importlib.util
    import os
    from types import ModuleType

    def _load_answer_cache() -> ModuleType | None:
        # By its path: `import dlconf.runner...` would first import dlconf, and with it torch.
        # The runner's own import later finds this module in sys.modules.
        name = "dlconf.runner.answer_cache"
        dlconf = importlib.util.find_spec("dlconf")
        if name in sys.modules or dlconf is None or not dlconf.submodule_search_locations:
            return None
        path = os.path.join(dlconf.submodule_search_locations[0], "runner", "answer_cache.py")
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            return None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception:  # a dlconf without it, or broken: then only the full path answers
            del sys.modules[name]
            return None
        return module

    _answer_cache = _load_answer_cache()
    if _answer_cache is not None:
        _answer_cache.answer_early(__name__)
