"""The command line: every flag documented, a training run end to end, readable errors."""

import dataclasses
import json
import subprocess
import sys

import pytest

from sphereface_lib.cli import FIELD_HELP, main
from sphereface_lib.config import TrainConfig
from tests.data.loopback import serving


def test_every_configuration_field_is_a_documented_flag():
    assert set(FIELD_HELP) == {field.name for field in dataclasses.fields(TrainConfig)}
    help_text = subprocess.run(
        [sys.executable, "-m", "sphereface_lib", "train", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for field in dataclasses.fields(TrainConfig):
        assert "--" + field.name.replace("_", "-") in help_text
    assert "--output" in help_text and "--data-root" in help_text and "--download" in help_text


def test_train_writes_metrics_and_resumes(data_root, tmp_path, capsys):
    arguments = [
        "train", "--profile", "smoke", "--head", "angular", "--margin", "3",
        "--embedding-dim", "3", "--train-limit", "256", "--test-limit", "100", "--epochs", "1",
        "--data-root", str(data_root), "--output", str(tmp_path), "--no-progress",
    ]  # fmt: skip
    assert main(arguments) == 0
    record = json.loads((tmp_path / "result.json").read_text())
    assert record["config"]["margin"] == 3 and record["config"]["embedding_dim"] == 3
    assert "final test accuracy" in capsys.readouterr().out


def test_bad_margin_is_a_readable_error(capsys):
    assert main(["train", "--margin", "0"]) == 2
    assert "margin must be an integer >= 1" in capsys.readouterr().err


def test_missing_data_is_a_readable_error(tmp_path, capsys):
    assert main(["data", "--data-root", str(tmp_path)]) == 2
    assert "is missing" in capsys.readouterr().err


@pytest.mark.parametrize("dataset", ["lfw", "att"])
def test_a_missing_face_set_is_one_line_with_the_command_that_fetches_it(dataset, tmp_path, capsys):
    assert main(["data", "--dataset", dataset, "--data-root", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("error: the ")
    assert f"--download --dataset {dataset} --data-root {tmp_path}`" in error


def test_data_check_verifies_the_real_files(data_root, capsys):
    assert main(["data", "--dataset", "mnist", "--data-root", str(data_root)]) == 0
    assert (
        capsys.readouterr().out == f"mnist: 4 files verified (SHA-256) in {data_root / 'mnist'}\n"
    )


def test_data_check_verifies_every_set_by_default(faces_root, capsys):
    assert main(["data", "--data-root", str(faces_root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" in ")[0] for line in lines] == [
        "mnist: 4 files verified (SHA-256)",
        "lfw: 5,615 files verified (SHA-256)",
        "att: 400 files verified (SHA-256)",
    ]


def test_data_download_fetches_from_the_mirror(data_root, tmp_path, capsys, monkeypatch):
    with serving() as server:
        for path in sorted((data_root / "mnist").glob("*.gz")):
            server.files["/" + path.name] = path.read_bytes()
        monkeypatch.setenv("SPHEREFACE_MIRROR", server.url)
        arguments = ["data", "--download", "--dataset", "mnist", "--data-root", str(tmp_path)]
        assert main(arguments) == 0
    output = capsys.readouterr().out
    assert output == f"mnist: 4 files downloaded and verified (SHA-256) in {tmp_path / 'mnist'}\n"
    assert len(server.requests) == 4


@pytest.mark.parametrize("value", ["true", "false"])
def test_boolean_flags_parse(value, tmp_path):
    from sphereface_lib.cli import build_parser

    parsed = build_parser().parse_args(["train", "--augment", value])
    assert parsed.augment is (value == "true")
