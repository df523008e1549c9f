"""The publishing workflow (.github/workflows/book.yml): triggers, permissions, Pages actions.

The book must be built with the README's own commands, the full profile on tags (and only then
deployed), the smoke profile on pull requests; the face data must fail the build when missing.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
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


def run_faces_step(
    workflow: dict[str, Any], data: Path, bin_dir: Path
) -> subprocess.CompletedProcess:
    script = step_running(workflow, "faces.tar.gz")["run"]
    environment = {
        **os.environ,
        "SPHEREFACE_DATA": str(data),
        "RUNNER_TEMP": str(data.parent),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    }
    # The shell GitHub runs `run:` steps with.
    command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script]
    return subprocess.run(command, env=environment, capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_missing_face_data_fails_the_build(workflow: dict[str, Any], tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"  # a gh that finds no release asset, as on a repository without it
    gh.write_text("#!/bin/sh\necho 'release not found' >&2\nexit 1\n")
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)

    missing = run_faces_step(workflow, tmp_path / "empty" / "data", bin_dir)
    assert missing.returncode == 1
    assert "::error::No face data" in missing.stdout

    present = tmp_path / "full" / "data"
    (present / "faces" / "lfw-deepfunneled").mkdir(parents=True)
    (present / "faces" / "att_faces").mkdir()
    found = run_faces_step(workflow, present, bin_dir)
    assert found.returncode == 0, found.stdout + found.stderr
