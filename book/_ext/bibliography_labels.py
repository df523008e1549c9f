"""Bibliography entries labelled as they are cited in the text: "[Liu et al., 2017]".

The text cites in author-year form (``bibtex_reference_style: author_year``); pybtex's own label
styles number the list ("[1]") or abbreviate it ("[LWY+17]"), so a reader could not match a
citation to its entry. This registers a pybtex label style and a formatting style that uses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle


def _plain(text: str) -> str:
    """BibTeX field text without its protective braces and escapes."""
    return re.sub(r"[{}\\]", "", text)


class AuthorYearLabels(BaseLabelStyle):
    """ "Liu et al., 2017", "Huang and Learned-Miller, 2014", "Yang, 2018"."""

    def format_labels(self, sorted_entries: Iterable[Any]) -> Iterator[str]:
        for entry in sorted_entries:
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            last = [_plain(" ".join(person.last_names)) for person in people]
            if len(last) > 2:
                names = f"{last[0]} et al."
            elif len(last) == 2:
                names = f"{last[0]} and {last[1]}"
            elif last:
                names = last[0]
            else:
                names = _plain(entry.fields.get("organization", entry.key))
            yield f"{names}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearStyle(UnsrtStyle):
    default_label_style = "authoryear"
    default_sorting_style = "author_year_title"


register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabels)
register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)


def setup(app: Any) -> dict[str, Any]:
    return {"parallel_read_safe": True, "parallel_write_safe": True}
