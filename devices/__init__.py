"""This project's machines, one frozen dataclass each; ``DEVICE_NAME`` picks one.

Importing this package registers them: every module in this folder is imported, so a new
machine is one file here with a ``@register_device("name")`` dataclass (nothing to add to
this file); then ``export DEVICE_NAME=name`` on that machine.
"""

import importlib
import pkgutil

# Sorted, so devices register in the same order on every machine.
DEVICE_MODULES = tuple(sorted(module.name for module in pkgutil.iter_modules(__path__)))
"""The modules found here, each imported below."""

for _name in DEVICE_MODULES:
    importlib.import_module(f"{__name__}.{_name}")
