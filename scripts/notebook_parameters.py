"""The parameters of the book's chapters, and the check of ``build_book.py -p`` against them.

Every chapter (``notebooks/NN_*.py``, Jupytext percent format) has one cell tagged
``parameters`` of assignments ``name = default  # comment`` or ``name: type = default``. A
parameter's type is its annotation when it has one, else that of its default: ``int``,
``float`` (which also takes integers), ``str``, ``bool``, a list or a dict of one element type.
A parameter whose default is ``None`` has no type to infer, so it needs an annotation
(``seeds: list[int] | None = None``); ``tests/scripts/test_notebook_parameters.py`` checks
that every one has one.

:func:`per_chapter` checks every ``-p`` name and value before anything is executed, and gives
each chapter only the parameters it declares (papermill would otherwise inject the others
with a mere warning).
"""

from __future__ import annotations

import ast
import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# The header of the parameters cell: a Jupytext cell whose tags include "parameters".
PARAMETERS_CELL = re.compile(r'# %% tags=\[(?:"[^"]*", )*"parameters"(?:, "[^"]*")*\]$')


class ParameterError(ValueError):
    """A ``-p`` name no chapter of the build declares, or a value of the wrong type."""


@dataclass(frozen=True)
class Kind:
    """A parameter's type: ``name`` is int, float, str, bool, none, any, list, dict or union."""

    name: str
    parts: tuple[Kind, ...] = ()

    def accepts(self, value: object) -> bool:
        if self.name == "any":
            return True
        if self.name == "union":
            return any(part.accepts(value) for part in self.parts)
        if self.name == "none":
            return value is None
        if self.name == "bool":
            return isinstance(value, bool)
        if self.name == "int":
            return isinstance(value, int) and not isinstance(value, bool)
        if self.name == "float":
            return isinstance(value, int | float) and not isinstance(value, bool)
        if self.name == "str":
            return isinstance(value, str)
        if self.name == "list":
            return isinstance(value, list) and all(self.parts[0].accepts(v) for v in value)
        if self.name == "dict":
            return isinstance(value, dict) and all(
                self.parts[0].accepts(k) and self.parts[1].accepts(v) for k, v in value.items()
            )
        raise AssertionError(self.name)

    def describe(self, plural: bool = False) -> str:
        """In words, e.g. "a JSON list of integers" (``plural``: "lists of integers")."""
        if self.name == "union":
            return " or ".join(part.describe(plural) for part in self.parts)
        if self.name == "list":
            inner = self.parts[0].describe(plural=True)
            return f"lists of {inner}" if plural else f"a JSON list of {inner}"
        if self.name == "dict":
            inner = self.parts[1].describe(plural=True)
            return f"objects of {inner}" if plural else f"a JSON object of {inner}"
        words = {
            "int": ("an integer", "integers"),
            "float": ("a number", "numbers"),
            "str": ("a string", "strings"),
            "bool": ("true or false", "true/false values"),
            "none": ("null", "nulls"),
            "any": ("any JSON value", "any values"),
        }
        return words[self.name][plural]

    def example(self) -> object:
        """A value of this kind, for messages."""
        if self.name == "union":
            return next(
                (p.example() for p in self.parts if p.name != "none"), self.parts[0].example()
            )
        if self.name == "list":
            return [self.parts[0].example()]
        if self.name == "dict":
            return {"name": self.parts[1].example()}
        return {"int": 1, "float": 0.5, "str": "text", "bool": True}.get(self.name)


SIMPLE = {"int", "float", "str", "bool"}


def kind_of_annotation(node: ast.expr) -> Kind:
    """The :class:`Kind` of an annotation such as ``list[int] | None``."""
    if isinstance(node, ast.Constant) and node.value is None:
        return Kind("none")
    if isinstance(node, ast.Name) and node.id in SIMPLE | {"object"}:
        return Kind("any" if node.id == "object" else node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return Kind("union", (kind_of_annotation(node.left), kind_of_annotation(node.right)))
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        arguments = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        parts = tuple(kind_of_annotation(argument) for argument in arguments)
        if node.value.id == "list" and len(parts) == 1:
            return Kind("list", parts)
        if node.value.id == "dict" and len(parts) == 2:
            return Kind("dict", parts)
    raise ValueError(f"unsupported parameter annotation {ast.unparse(node)!r}")


def kind_of_default(value: object) -> Kind:
    """The :class:`Kind` a default literal implies (``None``: any, for want of a better)."""
    if value is None:
        return Kind("any")
    if isinstance(value, bool):
        return Kind("bool")
    for name in ("int", "float", "str"):
        if type(value).__name__ == name:
            return Kind(name)
    if isinstance(value, list | dict):
        items = list(value.values()) if isinstance(value, dict) else value
        kinds = {kind_of_default(item) for item in items}
        if kinds == {Kind("int"), Kind("float")}:
            kinds = {Kind("float")}
        element = kinds.pop() if len(kinds) == 1 else Kind("any")
        if isinstance(value, dict):
            return Kind("dict", (Kind("str"), element))
        return Kind("list", (element,))
    raise ValueError(f"unsupported parameter default {value!r}")


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: Kind
    default: object
    annotated: bool


def parameters_cell(source: str) -> str:
    """The text of the cell tagged ``parameters`` of a Jupytext percent-format notebook."""
    lines = source.splitlines()
    headers = [i for i, line in enumerate(lines) if PARAMETERS_CELL.match(line)]
    if not headers:
        raise ValueError('no cell tagged "parameters" (# %% tags=["parameters", ...])')
    start = headers[0] + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("# %%")), len(lines))
    return "\n".join(lines[start:end])


def read_parameters(chapter: Path) -> dict[str, Parameter]:
    """The parameters that ``chapter`` declares, by name, in their order.

    An annotation may stand on the line before the assignment (``seeds: list[int] | None``),
    where the line with both would be too long.
    """
    parameters = {}
    declared: dict[str, ast.expr] = {}  # annotations waiting for their assignment
    for statement in ast.parse(parameters_cell(chapter.read_text())).body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            name, value = statement.target.id, statement.value
            annotation: ast.expr | None = statement.annotation
            if value is None:
                declared[name] = statement.annotation
                continue
        elif (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            name, value = statement.targets[0].id, statement.value
            annotation = declared.pop(name, None)
        else:
            raise ValueError(f"{chapter.name}: only assignments belong in the parameters cell")
        default = ast.literal_eval(value)
        kind = kind_of_annotation(annotation) if annotation else kind_of_default(default)
        parameters[name] = Parameter(name, kind, default, annotation is not None)
    if declared:
        raise ValueError(f"{chapter.name}: annotations without a default: {sorted(declared)}")
    return parameters


def _stems(chapters: Sequence[Path]) -> str:
    return ", ".join(chapter.stem for chapter in chapters)


def per_chapter(
    chapters: Sequence[Path],
    values: dict[str, object],
    every_chapter: Sequence[Path] = (),
) -> dict[Path, dict[str, object]]:
    """The parameters each of ``chapters`` gets: those of ``values`` it declares.

    Raises :class:`ParameterError` (one line) for a name that none of ``chapters`` declares
    (``every_chapter``, all the book's chapters, helps to say where it belongs) or a value
    that a chapter declaring it does not accept.
    """
    declared = {chapter: read_parameters(chapter) for chapter in chapters}
    for name, value in values.items():
        takers = [chapter for chapter in chapters if name in declared[chapter]]
        if not takers:
            elsewhere = [
                c for c in every_chapter if c not in declared and name in read_parameters(c)
            ]
            if elsewhere:
                raise ParameterError(
                    f"parameter {name!r} is declared only by {_stems(elsewhere)}, which this "
                    f"build does not run (chapters run: {_stems(chapters)})"
                )
            known = sorted({n for parameters in declared.values() for n in parameters})
            close = difflib.get_close_matches(name, known, n=1)
            hint = ""
            if close:
                users = [c for c in chapters if close[0] in declared[c]]
                hint = f"did you mean {close[0]!r} (declared by {_stems(users)})? "
            raise ParameterError(
                f"no chapter of this build declares a parameter {name!r}; {hint}"
                f"its parameters are {', '.join(known)}"
            )
        for chapter in takers:
            parameter = declared[chapter][name]
            if not parameter.kind.accepts(value):
                example = parameter.default
                if example is None:
                    example = parameter.kind.example()
                typed = example if isinstance(example, str) else json.dumps(example)
                if any(character in str(typed) for character in " []{}\"'"):
                    typed = f"'{typed}'"  # quoted for the shell
                raise ParameterError(
                    f"parameter {name!r} takes {parameter.kind.describe()} (declared by "
                    f"{_stems(takers)}), got {json.dumps(value)}; for example -p {name} {typed}"
                )
    return {
        chapter: {name: value for name, value in values.items() if name in declared[chapter]}
        for chapter in chapters
    }
