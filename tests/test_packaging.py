"""pyproject.toml and environment.yml must ask for the same packages."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = set(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements.update(extra)
    return requirements


def environment_requirements() -> set[str]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_lists = [entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict)]
    assert len(pip_lists) == 1, "environment.yml must have exactly one pip: section"
    return {line for line in pip_lists[0] if not line.startswith("--editable")}


def test_environment_and_pyproject_agree():
    in_pyproject, in_environment = pyproject_requirements(), environment_requirements()
    assert in_pyproject == in_environment, (
        f"only in pyproject: {sorted(in_pyproject - in_environment)}; "
        f"only in environment.yml: {sorted(in_environment - in_pyproject)}"
    )


def test_torch_is_pinned_to_the_installable_release():
    assert {"torch==2.14.1", "torchvision==0.29.1"} <= pyproject_requirements()


def test_python_versions_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert project["requires-python"] == ">=3.11"
    assert "python=3.11" in environment["dependencies"]
