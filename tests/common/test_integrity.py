"""Checked files: a damaged tensor, a truncated file or a changed record is an error naming it."""

import json
import os
import zipfile

import pytest
import torch

from sphereface_lib.common.integrity import (
    CorruptFileError,
    FileWriteError,
    content_digest,
    load_checked,
    read_json_checked,
    remove_partial_files,
    save_checked,
    write_atomically,
    write_json_checked,
)

REMEDY = "delete it and train again"


def flip_tensor_bytes(path, count=64):
    """Invert ``count`` bytes in the middle of the largest tensor stored in a torch zip file."""
    with zipfile.ZipFile(path) as archive:
        info = max(
            (i for i in archive.infolist() if "/data/" in i.filename), key=lambda i: i.file_size
        )
        assert info.compress_type == zipfile.ZIP_STORED and info.file_size >= 2 * count
    with open(path, "r+b") as stream:
        stream.seek(info.header_offset + 26)
        name_length, extra_length = (int.from_bytes(stream.read(2), "little") for _ in range(2))
        start = info.header_offset + 30 + name_length + extra_length + info.file_size // 2
        stream.seek(start)
        data = stream.read(count)
        stream.seek(start)
        stream.write(bytes(b ^ 0xFF for b in data))


def payload():
    generator = torch.Generator().manual_seed(0)
    return {
        "net": {"conv.weight": torch.randn(8, 4, 3, 3, generator=generator)},
        "step": 12,
        "metrics": [{"loss": 0.25, "accuracy": 0.875}],
        "labels": torch.arange(10),
    }


def test_a_saved_payload_reads_back_equal(tmp_path):
    save_checked(payload(), tmp_path / "x.pt")
    loaded = load_checked(tmp_path / "x.pt", REMEDY)
    assert loaded.keys() == payload().keys()
    assert torch.equal(loaded["net"]["conv.weight"], payload()["net"]["conv.weight"])
    assert loaded["metrics"] == payload()["metrics"]


def test_flipped_bytes_inside_a_tensor_are_caught(tmp_path):
    save_checked(payload(), tmp_path / "x.pt")
    flip_tensor_bytes(tmp_path / "x.pt")
    torch.load(tmp_path / "x.pt", weights_only=True)  # torch itself does not notice
    with pytest.raises(CorruptFileError, match=r"x\.pt is damaged: .*; delete it and train again"):
        load_checked(tmp_path / "x.pt", REMEDY)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: b"",  # empty
        lambda data: b"\x00not a checkpoint",  # not a torch file
    ],
    ids=["truncated", "empty", "garbage"],
)
def test_an_unreadable_file_is_an_error_naming_it_and_the_remedy(damage, tmp_path):
    save_checked(payload(), tmp_path / "x.pt")
    (tmp_path / "x.pt").write_bytes(damage((tmp_path / "x.pt").read_bytes()))
    with pytest.raises(CorruptFileError, match=r"x\.pt cannot be read .*delete it and train") as e:
        load_checked(tmp_path / "x.pt", REMEDY)
    assert "\n" not in str(e.value)


def test_the_digest_sees_every_value_and_dtype():
    base = content_digest(payload())
    changed_value = payload()
    changed_value["metrics"][0]["loss"] = 0.2500001
    changed_dtype = payload()
    changed_dtype["labels"] = changed_dtype["labels"].int()
    changed_layout = payload()
    changed_layout["net"]["conv.weight"] = changed_layout["net"]["conv.weight"].reshape(8, 36)
    assert len({base, *map(content_digest, (changed_value, changed_dtype, changed_layout))}) == 4
    # The memory layout is not content: channels-last weights hash like contiguous ones.
    channels_last = payload()
    channels_last["net"]["conv.weight"] = channels_last["net"]["conv.weight"].contiguous(
        memory_format=torch.channels_last
    )
    assert content_digest(channels_last) == base


def test_files_written_before_checksums_are_read_as_they_are(tmp_path):
    torch.save(payload(), tmp_path / "old.pt")
    assert load_checked(tmp_path / "old.pt", REMEDY)["step"] == 12


def test_a_json_record_with_a_changed_number_is_caught(tmp_path):
    write_json_checked(
        {"final_test_accuracy": 0.675, "metrics": [1.5, float("nan")]}, tmp_path / "r.json"
    )
    assert read_json_checked(tmp_path / "r.json", REMEDY)["final_test_accuracy"] == 0.675
    text = (tmp_path / "r.json").read_text()
    (tmp_path / "r.json").write_text(text.replace("0.675", "0.105"))
    with pytest.raises(CorruptFileError, match=r"r\.json is damaged"):
        read_json_checked(tmp_path / "r.json", REMEDY)
    (tmp_path / "r.json").write_text(text[: len(text) // 2])
    with pytest.raises(CorruptFileError, match=r"r\.json cannot be read as JSON .*truncated"):
        read_json_checked(tmp_path / "r.json", REMEDY)
    assert json.loads(text)["sha256"]  # still plain JSON for other readers


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    save_checked(payload(), tmp_path / "x.pt")
    before = (tmp_path / "x.pt").read_bytes()

    def fail(stream):
        stream.write(b"half")
        raise RuntimeError("killed while writing")

    with pytest.raises(RuntimeError):
        write_atomically(tmp_path / "x.pt", fail)
    assert (tmp_path / "x.pt").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.pt"]


def test_a_write_into_a_missing_folder_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(FileWriteError, match=r"cannot write .*nowhere/x\.pt"):
        save_checked(payload(), tmp_path / "nowhere" / "x.pt")


def test_temporary_names_are_unique_and_leftovers_are_removed(tmp_path):
    names = []

    def remember(stream):
        names.append(os.path.basename(stream.name))

    for _ in range(2):
        write_atomically(tmp_path / "x.pt", remember)
    assert names[0] != names[1] and str(os.getpid()) in names[0]
    (tmp_path / ".x.pt.123-abcd.partial").write_bytes(b"left by a killed process")
    remove_partial_files(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.pt"]
