"""The publishing workflow (.github/workflows/book.yml): triggers, permissions, Pages actions.

The book must be built with the README's own commands, the full profile on tags (and only then
deployed), the smoke profile on pull requests; the face data must fail the build when missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
ON_TAG = "startsWith(github.ref, 'refs/tags/v')"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    return workflow.get("on", workflow.get(True))


def steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return workflow["jobs"][job]["steps"]


def uses(workflow: dict[str, Any], job: str) -> list[str]:
    return [step["uses"].split("@")[0] for step in steps(workflow, job) if "uses" in step]


def step_running(workflow: dict[str, Any], text: str) -> dict[str, Any]:
    matches = [step for step in steps(workflow, "build") if text in step.get("run", "")]
    assert len(matches) == 1, f"expected one build step running {text!r}, found {len(matches)}"
    return matches[0]


def test_triggers_are_pull_requests_and_version_tags(workflow: dict[str, Any]) -> None:
    on = triggers(workflow)
    assert set(on) == {"pull_request", "push"}
    assert on["push"] == {"tags": ["v*"]}, "pushes build only for version tags"


def test_permissions_are_minimal_and_deploy_gets_pages(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {"contents": "read"}
    deploy = workflow["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert workflow["jobs"]["build"]["permissions"] == {"contents": "read", "pages": "read"}


def test_official_pages_actions_and_no_branch(workflow: dict[str, Any]) -> None:
    assert "actions/configure-pages" in uses(workflow, "build")
    assert "actions/upload-pages-artifact" in uses(workflow, "build")
    assert uses(workflow, "deploy") == ["actions/deploy-pages"]
    upload = next(
        s for s in steps(workflow, "build") if "upload-pages-artifact" in s.get("uses", "")
    )
    assert upload["with"]["path"] == "_build/html"
    # Pages are deployed from the artifact: no third-party action, no push to a branch.
    everything = [u for job in workflow["jobs"] for u in uses(workflow, job)]
    assert all(action.startswith("actions/") for action in everything), everything
    runs = [step.get("run", "") for job in workflow["jobs"] for step in steps(workflow, job)]
    assert not any("git push" in run for run in runs)


def test_deploy_runs_only_on_tags(workflow: dict[str, Any]) -> None:
    deploy = workflow["jobs"]["deploy"]
    assert deploy["if"] == ON_TAG
    assert deploy["needs"] == "build"
    configure = next(s for s in steps(workflow, "build") if "configure-pages" in s.get("uses", ""))
    assert configure["if"] == ON_TAG


def test_profile_is_full_on_tags_and_smoke_otherwise(workflow: dict[str, Any]) -> None:
    build = workflow["jobs"]["build"]
    assert build["env"]["PROFILE"] == f"${{{{ {ON_TAG} && 'full' || 'smoke' }}}}"
    assert step_running(workflow, "--profile smoke")["if"] == "env.PROFILE == 'smoke'"
    assert step_running(workflow, "--profile full")["if"] == "env.PROFILE == 'full'"
    assert "SPHEREFACE_DATA" in build["env"]


def test_build_uses_the_readme_commands(workflow: dict[str, Any]) -> None:
    readme = (ROOT / "README.md").read_text()
    commands = [
        line.strip()
        for step in steps(workflow, "build")
        for line in step.get("run", "").splitlines()
        if "scripts/" in line
    ]
    assert "bash scripts/setup.sh" in commands
    assert any("scripts/build_book.py --profile" in command for command in commands)
    missing = [command for command in commands if command not in readme]
    assert not missing, f"workflow commands that the README does not show: {missing}"


def test_lint_and_unit_tests_run_before_the_book_is_built(workflow: dict[str, Any]) -> None:
    """The README's test command (its lint and unit-test part) gates every build and deploy."""
    runs = [step.get("run", "") for step in steps(workflow, "build")]
    tests = runs.index(step_running(workflow, "scripts/test.sh")["run"])
    assert step_running(workflow, "scripts/test.sh")["run"].strip() == "bash scripts/test.sh --unit"
    assert "if" not in step_running(workflow, "scripts/test.sh")  # on pull requests and tags
    builds = [i for i, run in enumerate(runs) if "build_book.py" in run]
    assert builds and tests < min(builds)
    assert "bash scripts/test.sh --unit" in (ROOT / "README.md").read_text()


def test_the_face_data_come_from_the_build_not_from_a_release(workflow: dict[str, Any]) -> None:
    """The book's build fetches and verifies the faces itself (sphereface_lib.data.fetch): the
    workflow only caches them, and never publishes a book without its face chapters."""
    steps = workflow["jobs"]["build"]["steps"]
    assert not any("gh release" in step.get("run", "") for step in steps)
    caches = [step for step in steps if step.get("uses", "").startswith("actions/cache")]
    assert any(step["with"]["path"].endswith("/data/faces") for step in caches)
    build = [step["run"] for step in steps if "build_book.py" in step.get("run", "")]
    assert build, "the workflow does not build the book with scripts/build_book.py"
