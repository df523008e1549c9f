"""The command line: every flag documented, a training run end to end, readable errors."""

import dataclasses
import json
import os
import subprocess
import sys

import pytest
import torch

from sphereface_lib.cli import main
from sphereface_lib.training.config import TrainConfig
from tests.data.loopback import serving


def test_every_configuration_field_is_a_documented_flag():
    help_text = subprocess.run(
        [sys.executable, "-m", "sphereface_lib", "train", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = " ".join(help_text.split())  # argparse wraps the help
    for field in dataclasses.fields(TrainConfig):
        assert "--" + field.name.replace("_", "-") in help_text
        assert field.metadata["help"] and field.metadata["help"] in flat, field.name
    assert "--output" in help_text and "--data-root" in help_text and "--download" in help_text


TRAIN = [
    "train", "--profile", "smoke", "--head", "angular", "--margin", "3", "--embedding-dim", "3",
    "--train-limit", "256", "--test-limit", "100", "--epochs", "1", "--no-progress",
]  # fmt: skip


def test_train_stops_resumes_and_writes_metrics(tmp_path, capsys):
    arguments = [*TRAIN, "--dataset", "synthetic", "--output", str(tmp_path)]
    assert main([*arguments, "--stop-at-step", "1"]) == 0
    assert "stopped at step 1; run the same command to resume" in capsys.readouterr().out
    assert (tmp_path / "checkpoint.pt").exists()
    assert main(arguments) == 0
    record = json.loads((tmp_path / "result.json").read_text())
    assert record["config"]["margin"] == 3 and record["config"]["embedding_dim"] == 3
    assert record["config"]["dataset"] == "synthetic"
    assert "final test accuracy" in capsys.readouterr().out
    assert not (tmp_path / "checkpoint.pt").exists()


@pytest.mark.data
def test_train_on_the_real_mnist_writes_metrics(data_root, tmp_path, capsys):
    assert main([*TRAIN, "--data-root", str(data_root), "--output", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "result.json").read_text())
    assert record["config"]["dataset"] == "mnist" and record["test_images"] == 100
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


# (arguments, what the one-line error says): the settings of issue 13 that trained, crashed in
# the middle of training or left an empty folder behind.
BAD_ARGUMENTS = [
    (["--grad-clip-norm", "0"], "grad_clip_norm must be a finite number > 0 or None, got 0.0"),
    (["--grad-clip-norm", "-1"], "grad_clip_norm must be a finite number > 0 or None"),
    (["--lambda-gamma", "-1"], "lambda_gamma must be a finite number >= 0, got -1.0"),
    (["--lambda-gamma", "-0.3", "--lambda-power", "0.5"], "lambda_gamma must be a finite"),
    (["--lambda-power", "0"], "lambda_power must be a finite number > 0"),
    (["--learning-rate", "nan"], "learning_rate must be a finite number > 0, got nan"),
    (["--warmup-epochs", "-1"], "warmup_epochs must be a finite number >= 0"),
    (["--stop-at-step", "-5"], "stop_at_step must be a positive number of updates, got -5"),
    (["--stop-at-step", "0"], "stop_at_step must be a positive number of updates, got 0"),
    (["--momentum", "-1"], "momentum must be a finite number in (0, 1)"),
    (["--epochs", "0"], "epochs must be a positive integer, got 0"),
    (["--device", "cuda:7"], "device 'cuda:7' was requested but"),
]


@pytest.mark.parametrize(("arguments", "message"), BAD_ARGUMENTS)
def test_a_bad_setting_is_one_line_before_anything_is_made(arguments, message, tmp_path, capsys):
    output = tmp_path / "run"
    code = main(["train", "--profile", "smoke", *arguments, "--output", str(output)])
    err = capsys.readouterr().err
    assert code == 2 and err == f"error: {err[7:]}" and message in err, err
    assert err.count("\n") == 1, err
    assert not output.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_on_a_machine_without_it_leaves_no_folder(tmp_path, capsys):
    assert main(["train", "--device", "cuda", "--output", str(tmp_path / "run")]) == 2
    assert "CUDA is not available here" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_bad_output_folders_are_one_line_errors(tmp_path, capsys, monkeypatch):
    (tmp_path / "a-file").write_text("")
    cases = [
        (tmp_path / "a-file", "a-file is a file"),
        (tmp_path / "a-file" / "run", "cannot be created: "),
    ]
    for output, message in cases:
        assert main(["train", "--profile", "smoke", "--output", str(output)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    (tmp_path / "read-only").mkdir()
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # root could write anyway
    assert main(["train", "--output", str(tmp_path / "read-only")]) == 2
    assert "read-only is not writable" in capsys.readouterr().err


def test_a_finished_folder_is_read_back_refused_or_retrained_with_force(
    data_root, tmp_path, capsys
):
    arguments = [
        "train", "--profile", "smoke", "--train-limit", "256", "--test-limit", "100",
        "--epochs", "1", "--data-root", str(data_root), "--output", str(tmp_path),
        "--no-progress",
    ]  # fmt: skip
    assert main(arguments) == 0
    record = (tmp_path / "result.json").read_text()
    capsys.readouterr()
    assert main(arguments) == 0
    captured = capsys.readouterr()
    assert "reading the finished run" in captured.err and "final test accuracy" in captured.out
    assert main([*arguments, "--margin", "2"]) == 2
    err = capsys.readouterr().err
    assert "another configuration (margin: 4 there, 2 asked)" in err and err.count("\n") == 1
    assert (tmp_path / "result.json").read_text() == record
    assert main([*arguments, "--force"]) == 0
    assert "training {" in capsys.readouterr().err
    assert (tmp_path / "result.json").read_text() != record  # trained again (new timings)


def test_a_data_root_that_is_a_file_is_one_line_even_with_download(tmp_path, capsys, monkeypatch):
    (tmp_path / "data").write_text("")
    monkeypatch.setenv("SPHEREFACE_DATA", str(tmp_path / "data"))
    assert main(["data", "--download"]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and err.count("\n") == 1, err
