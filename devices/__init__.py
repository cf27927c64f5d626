"""This project's machines, one frozen dataclass each; ``DEVICE_NAME`` picks one.

Importing this package registers them. Add a machine by writing a module here with a
``@register_device("name")`` dataclass and importing it below; then
``export DEVICE_NAME=name`` on that machine.
"""

from devices import cluster, default, laptop, workstation

__all__ = ["cluster", "default", "laptop", "workstation"]
