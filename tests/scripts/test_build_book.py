"""scripts/build_book.py: what it changes in the executed notebooks and in the book's config."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def load_script():
    # build_book.py imports its neighbour notebook_parameters.py, as when run as a script.
    if str(ROOT / "scripts") not in sys.path:
        sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location("build_book", ROOT / "scripts" / "build_book.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_book"] = module
    spec.loader.exec_module(module)
    return module


build_book = load_script()


def test_injected_parameters_are_removed_from_the_page_only(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("profile = 'smoke'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("profile = 'full'", metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("print(profile)"),
    ]
    path = tmp_path / "chapter.ipynb"
    nbformat.write(notebook, path)
    build_book.hide_injected_parameters(path)
    cells = nbformat.read(path, as_version=4).cells
    assert [cell.metadata.get("tags", []) for cell in cells] == [
        ["parameters"],
        ["injected-parameters", "remove-cell"],
        [],
    ]
    assert cells[1].source == "profile = 'full'"  # nbval still runs it


def test_the_repository_button_comes_only_with_a_repository() -> None:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["html"]["use_repository_button"] is False
    assert "repository" not in config
    path = build_book.config_with_repository("https://github.com/someone/sphereface")
    try:
        with_button = yaml.safe_load(path.read_text())
        assert path.parent == ROOT  # the config's relative paths keep their meaning
    finally:
        path.unlink()
    assert with_button["html"]["use_repository_button"] is True
    assert with_button["repository"]["url"] == "https://github.com/someone/sphereface"
    assert with_button["sphinx"] == config["sphinx"]


def test_progress_of_the_kernel_reaches_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sphereface_lib.common.progress import PROGRESS_LOG_ENV, progress_stream

    monkeypatch.delenv(PROGRESS_LOG_ENV, raising=False)
    log = tmp_path / ".chapter.progress"
    with build_book.progress_on_terminal(log):
        stream = progress_stream()
        stream.write("training: 50%\n")
        stream.flush()
    assert "training: 50%" in capsys.readouterr().err
    assert not log.exists()
    assert PROGRESS_LOG_ENV not in os.environ
