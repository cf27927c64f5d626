"""The docstrings written under dataclass fields, which Python itself does not keep.

::

    @dataclass
    class Params:
        beta: float = 0.5
        \"\"\"Weight of the KL regularization.\"\"\"

Sphinx and IDEs read such a string as the field's documentation; the interpreter drops it.
:func:`field_docs` reads it back from the class's source, so ``--help`` can show it.
"""

from __future__ import annotations

import ast
import inspect
import textwrap


def field_docs(cls: type) -> dict[str, str]:
    """``{field name: its docstring, as one line}`` for ``cls`` and its bases.

    A subclass's docstring wins over a base's; a class whose source cannot be read (built
    at run time, or from a module without files) contributes nothing.
    """
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        docs.update(_own_field_docs(klass))
    return docs


def _own_field_docs(cls: type) -> dict[str, str]:
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    node = tree.body[0] if tree.body else None
    if not isinstance(node, ast.ClassDef):
        return {}
    docs: dict[str, str] = {}
    for statement, following in zip(node.body, node.body[1:], strict=False):
        if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
            continue
        if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
            text = following.value.value
            if isinstance(text, str):
                docs[statement.target.id] = " ".join(inspect.cleandoc(text).split())
    return docs
