"""Shell completion for ``python -m experiments.<name>``, the way runs are started.

Hydra's own bash completion knows ``python script.py`` and installed apps, not ``python -m
module``: its function gives up on the ``-m``, and its query reads ``-m`` as the script
and the module name as an override. This installs a function that recognises ``python -m
<module>`` and asks that module for the completions (Hydra's query, which completes
groups, keys and values from the composed config), with the line it understands::

    eval "$(python -m experiments.mnist_vae -sc install=bash)"
    python -m experiments.mnist_vae params.b<TAB>     # params.batch_size=  params.beta=
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence

INSTALL_BASH = "install=bash"
QUERY_BASH = "query=bash"
SHELL_COMPLETION_FLAGS = ("-sc", "--shell-completion")

_MODULE_FORM = re.compile(r"^(\s*\S*python3?)\s+-m\s+")

BASH_SCRIPT = r"""
dlconf_bash_completion()
{
    local words=($COMP_LINE)
    if [ "${words[1]}" != "-m" ] || (( ${#words[@]} < 3 )); then
        # Not `python -m module`: leave it to whatever completion was there before.
        if [ -n "$_DLCONF_OLD_COMPLETION" ]; then
            "$_DLCONF_OLD_COMPLETION" "$@"
        fi
        return
    fi
    local word=""
    if [ "${COMP_LINE: -1}" != " " ]; then
        word=${words[${#words[@]}-1]}
    fi
    local choices
    choices=$(COMP_POINT=$COMP_POINT COMP_LINE=$COMP_LINE \
        "${words[0]}" -m "${words[2]}" -sc query=bash 2>/dev/null)
    COMPREPLY=($(compgen -o nospace -o default -W "$choices" -- "$word"))
}

_DLCONF_OLD_COMPLETION=$(complete -p python 2>/dev/null | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
COMP_WORDBREAKS=${COMP_WORDBREAKS//=}
complete -o nospace -o default -F dlconf_bash_completion python python3
"""


def answer_completion(args: Sequence[str]) -> bool:
    """Print the install script and return True; or prepare a query for Hydra (False)."""
    request = completion_request(args)
    if request is None:
        return False
    script = install_script(request)
    if script is not None:
        sys.stdout.write(script)
        return True
    prepare_query()
    return False


def completion_request(args: Sequence[str]) -> str | None:
    """``install=bash``, ``query=bash``... when the command line asks for completion."""
    for index, arg in enumerate(args):
        if arg in SHELL_COMPLETION_FLAGS and index + 1 < len(args):
            return args[index + 1]
        for flag in SHELL_COMPLETION_FLAGS:
            if arg.startswith(flag + "="):
                return arg.split("=", 1)[1]
    return None


def install_script(request: str) -> str | None:
    """The script to print for ``request``, or None to let Hydra answer it."""
    return BASH_SCRIPT.strip() + "\n" if request == INSTALL_BASH else None


def prepare_query(environ: os._Environ[str] | dict[str, str] = os.environ) -> None:
    """Rewrite ``COMP_LINE`` from ``python -m module ...`` to ``python module ...``.

    Hydra's query strips ``python <script>`` from the line before reading the overrides;
    without the ``-m`` the module name is taken for that script. ``COMP_POINT`` (the cursor)
    moves back by what was removed, so it still points at the word being completed.
    """
    line = environ.get("COMP_LINE")
    if line is None:
        return
    rewritten = _MODULE_FORM.sub(r"\1 ", line, count=1)
    removed = len(line) - len(rewritten)
    if not removed:
        return
    environ["COMP_LINE"] = rewritten
    point = environ.get("COMP_POINT")
    if point is not None and point.isdigit():
        environ["COMP_POINT"] = str(max(0, int(point) - removed))
