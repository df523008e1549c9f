"""The records behind the README's tables: where a measurement came from, and the README's
blocks that scripts write from such records.

A record (``results/*.json``) says what was measured and how: the command, with its paths made
portable (a path of the machine that measured means nothing elsewhere), the commit, the date
and the hardware. A README table is the text between two marker lines
``<!-- NAME:start ... -->`` and ``<!-- NAME:end -->``, which the script that measured writes
from its record; a test checks that the README's block equals what the committed record gives,
so a number typed in by hand cannot drift.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sphereface_lib.common import hardware

REPOSITORY = Path(__file__).resolve().parents[2]


def commit(root: Path = REPOSITORY) -> str:
    """The short commit of ``root``, with "+uncommitted" when tracked files changed."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return head + ("+uncommitted" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def portable_path(text: str, root: Path = REPOSITORY, placeholder: str = "<path>") -> str:
    """``text`` relative to ``root`` when it is a path inside it, ``placeholder`` when it is an
    absolute path elsewhere, else unchanged."""
    if not os.path.isabs(text):
        return text
    path = Path(text).resolve()
    if path.is_relative_to(root.resolve()):
        return str(path.relative_to(root.resolve()))
    return placeholder


def portable_command(arguments: Sequence[str], root: Path = REPOSITORY) -> str:
    """A command line as a record shows it: ``python`` and paths relative to the repository;
    an absolute path outside it becomes ``<name>`` after its option (``--cache-dir <cache-dir>``),
    ``<path>`` otherwise, also inside ``--option=/abs/path``."""
    shown = ["python"]
    previous = ""
    for argument in arguments:
        option, equals, value = argument.partition("=")
        if equals and option.startswith("--"):
            shown.append(f"{option}={portable_path(value, root, f'<{option[2:]}>')}")
        else:
            name = f"<{previous[2:]}>" if previous.startswith("--") else "<path>"
            shown.append(portable_path(argument, root, name))
        previous = argument
    return " ".join(shown)


def provenance(arguments: Sequence[str], root: Path = REPOSITORY) -> dict[str, Any]:
    """Command (portable), commit, date and hardware of a measurement made now."""
    return {
        "command": portable_command(arguments, root),
        "commit": commit(root),
        "date": time.strftime("%Y-%m-%d"),
        "hardware": hardware.summary(),
    }


_ABSOLUTE = re.compile(r"(?<![\w.])/(?:[\w.-]+/)*[\w.-]+")


def has_machine_paths(text: str) -> bool:
    """Whether ``text`` names an absolute path (a record should not)."""
    return bool(_ABSOLUTE.search(text))


def markers(name: str, writer: str) -> tuple[str, str]:
    """The start and end lines of the README block ``name``, written by ``writer``."""
    return f"<!-- {name}:start (written by {writer}) -->", f"<!-- {name}:end -->"


def readme_block(text: str, start: str, end: str) -> str:
    """What stands between the marker lines ``start`` and ``end`` of ``text``."""
    if start not in text or end not in text:
        raise ValueError(f"the README lacks the marker lines {start!r} and {end!r}")
    return text.split(start, 1)[1].split(end, 1)[0].strip("\n")


def with_readme_block(text: str, start: str, end: str, block: str) -> str:
    """``text`` with the part between the marker lines replaced by ``block``."""
    readme_block(text, start, end)  # the markers must be there
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    return f"{before}{start}\n{block}\n{end}{after}"
