"""scripts/notebook_parameters.py: -p names and values are checked against the chapters'
parameters cells before build_book.py runs anything; each chapter gets only its own."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def load_script():
    spec = importlib.util.spec_from_file_location(
        "notebook_parameters", ROOT / "scripts" / "notebook_parameters.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["notebook_parameters"] = module
    spec.loader.exec_module(module)
    return module


parameters = load_script()


def chapters(*prefixes):
    return [c for c in CHAPTERS if not prefixes or c.name.startswith(prefixes)]


# (chapters run, -p values as build_book.py parses them, the one-line error): the rows of
# issue 13 first, then their neighbours.
BAD = [
    (
        ["02"],
        {"margin": "abc"},
        r"parameter 'margin' takes an integer \(declared by 02_mnist_acc.*for example -p margin 4$",
    ),
    (["02"], {"embedding_dims": 5}, r"'embedding_dims' takes a JSON list of integers .*got 5"),
    (["02"], {"heads": "angular"}, r"'heads' takes a JSON list of strings .*got \"angular\""),
    (
        ["02"],
        {"margn": 3},
        r"no chapter of this build declares a parameter 'margn'; did you mean 'margin' "
        r"\(declared by 02_mnist_accuracy\)\? its parameters are ",
    ),
    (
        ["02", "03"],
        {"plot_margin": 6},
        r"'plot_margin' is declared only by 01_softmax_formulations, which this build does not "
        r"run \(chapters run: 02_mnist_accuracy, 03_embeddings\)",
    ),
    ([], {"margin": 4.5}, r"'margin' takes an integer \(declared by 02_mnist_accuracy, "),
    (
        [],
        {"seeds": 0},
        r"'seeds' takes a JSON list of integers or null .*for example -p seeds '\[1\]'",
    ),
    ([], {"workers": True}, r"'workers' takes an integer"),
    ([], {"sized_margins": {"cosface": "big"}}, r"'sized_margins' takes a JSON object of numbers"),
    ([], {"data_root": 3}, r"'data_root' takes a string or null"),
]


@pytest.mark.parametrize(("only", "values", "message"), BAD)
def test_a_bad_parameter_is_one_line_naming_it_and_its_chapters(only, values, message):
    with pytest.raises(parameters.ParameterError, match=message) as error:
        parameters.per_chapter(chapters(*only), {"profile": "smoke", **values}, CHAPTERS)
    assert "\n" not in str(error.value)


def test_each_chapter_gets_only_the_parameters_it_declares():
    values = {"profile": "smoke", "margin": 3, "plot_margin": 6, "scale": 16, "seeds": None}
    given = parameters.per_chapter(CHAPTERS, values, CHAPTERS)
    by_prefix = {chapter.name[:2]: sorted(names) for chapter, names in given.items()}
    assert by_prefix == {
        "00": ["profile", "seeds"],
        "01": ["plot_margin", "profile"],
        "02": ["margin", "profile", "seeds"],
        "03": ["margin", "profile"],
        "04": ["profile"],
        "05": ["profile", "scale", "seeds"],  # a float parameter takes an integer
        "06": ["margin", "profile"],
        "07": ["profile", "seeds"],
        "08": ["profile"],
    }


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.stem)
def test_every_parameter_has_a_type_that_its_default_has(chapter):
    declared = parameters.read_parameters(chapter)
    assert "profile" in declared
    for parameter in declared.values():
        assert parameter.default is not None or parameter.annotated, (
            f"{chapter.name}: {parameter.name} defaults to None without an annotation such as "
            f"'{parameter.name}: int | None = None'; -p could not check its values"
        )
        assert parameter.kind.accepts(parameter.default), parameter


@pytest.mark.parametrize(
    ("annotation", "good", "bad"),
    [
        ("int", [3, -1], [3.0, True, "3", None]),
        ("float", [0.5, 2], [True, "0.5"]),
        ("list[int] | None", [[1, 2], [], None], [1, [1.5], ["1"]]),
        ("dict[str, float]", [{"a": 1, "b": 0.5}], [{"a": "x"}, [0.5]]),
        ("bool", [True, False], [0, "true"]),
    ],
)
def test_annotations_accept_their_values_only(annotation, good, bad):
    import ast

    kind = parameters.kind_of_annotation(ast.parse(annotation, mode="eval").body)
    assert all(kind.accepts(value) for value in good)
    assert not any(kind.accepts(value) for value in bad)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["-p", "margn", "3"], "'margn'; did you mean 'margin'"),
        (["--only", "02", "-p", "margin", "abc"], "parameter 'margin' takes an integer"),
        (["--only", "02", "-p", "heads", "angular"], "'heads' takes a JSON list of strings"),
    ],
)
def test_build_book_refuses_before_executing_anything(arguments, message, tmp_path):
    output = tmp_path / "executed"
    command = [sys.executable, str(ROOT / "scripts" / "build_book.py"), "--no-html"]
    finished = subprocess.run(
        [*command, "--output-dir", str(output), *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SPHEREFACE_DATA": str(tmp_path / "no-data")},  # never reached
    )
    assert finished.returncode == 2
    assert finished.stderr.startswith("build_book.py: error: ") and message in finished.stderr
    assert finished.stderr.count("\n") == 1 and not finished.stdout
    assert not output.exists()


@pytest.mark.parametrize("chapter", ["01", "02", "03"])
def test_the_commands_of_the_rerun_page_pass_the_check(chapter):
    from tests.book.test_rerun import documented_command

    arguments = documented_command(chapter)
    values: dict[str, object] = {"profile": arguments[arguments.index("--profile") + 1]}
    for index, argument in enumerate(arguments):
        if argument == "-p":
            name, text = arguments[index + 1], arguments[index + 2]
            try:
                values[name] = json.loads(text)
            except json.JSONDecodeError:
                values[name] = text
    given = parameters.per_chapter(chapters(chapter), values, CHAPTERS)
    assert given[chapters(chapter)[0]] == values
