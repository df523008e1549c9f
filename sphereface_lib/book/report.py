"""Tables for the book: rows of values -> a Markdown table the notebook displays.

Markdown output renders as an HTML table in Jupyter Book and compares as plain text in nbval.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

MISSING = "–"  # the cell of a value that does not exist


def markdown_table(
    rows: Sequence[Sequence[Any]],
    columns: Sequence[str],
    formats: Sequence[str | Callable[[Any], str]] | None = None,
    align: str | None = None,
) -> str:
    """Rows -> Markdown table text; ``formats`` per column (format spec or function).

    ``None`` is a value that does not exist (a median of no errors): it shows as "–".
    """
    formats = formats or ["{}"] * len(columns)
    if len(formats) != len(columns):
        raise ValueError(f"{len(formats)} formats for {len(columns)} columns")
    align = align or "l" + "r" * (len(columns) - 1)
    rules = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = [
        "| " + " | ".join(columns) + " |",
        "| " + " | ".join(rules[a] for a in align) + " |",
    ]
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"row {row!r} has {len(row)} values for {len(columns)} columns")
        cells = [
            MISSING if value is None else form(value) if callable(form) else form.format(value)
            for form, value in zip(formats, row, strict=True)
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def show_table(*args: Any, source: str | None = None, **kwargs: Any) -> Any:
    """:func:`markdown_table` wrapped for display in a notebook (an IPython ``Markdown``), with
    a line naming the ``source`` of quoted numbers under it."""
    from IPython.display import Markdown

    text = markdown_table(*args, **kwargs)
    if source:
        text += f"\n\n<small>{source}</small>"
    return Markdown(text)
