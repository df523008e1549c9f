"""The checksum lists, the LFW subset rule and verified extraction out of tar and zip archives."""

import hashlib

import pytest

from sphereface_lib.data import DataFileError, att_faces_folder, lfw_folder
from sphereface_lib.data.archives import (
    ATT_IMAGE,
    LFW_IMAGE,
    archive_files,
    extract_verified,
    images_by_name,
    lfw_subset,
    load_checksums,
    parse_checksums,
    verify_folder,
)
from tests.data.conftest import TINY_LFW_PAIRS, TINY_LFW_SUBSET, tiny_lfw_images
from tests.data.loopback import folder_files, tar_gz, zip_of

PAIRS_SHA256 = "ea42330c62c92989f9d7c03237ed5d591365e89b3e649747777b70e692dc1592"  # data README


def test_the_shipped_lists_pin_every_file_the_book_reads():
    lfw = load_checksums("lfw_subset")
    att = load_checksums("att_faces")
    assert len(lfw) == 5_614 + 1 and lfw["pairs.txt"] == PAIRS_SHA256
    assert all(LFW_IMAGE.fullmatch(name) for name in lfw if name != "pairs.txt")
    assert sorted(att) == sorted(f"s{s}/{n}.pgm" for s in range(1, 41) for n in range(1, 11))


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("0" * 64 + "  ../escape.jpg", "no '..'"),
        ("0" * 64 + "  /etc/passwd", "no '..'"),
        ("not a digest  a.jpg", "64 hex digits"),
        ("0" * 64 + "  a.jpg\n" + "1" * 64 + "  a.jpg", "listed twice"),
    ],
)
def test_a_checksum_list_with_unsafe_or_repeated_paths_is_refused(line, problem):
    with pytest.raises(ValueError, match=problem):
        parse_checksums(line)


def test_the_subset_rule_keeps_people_with_ten_images_and_the_pairs_of_folds_one_and_two(
    tmp_path,
):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text(TINY_LFW_PAIRS)
    assert sorted(lfw_subset(tiny_lfw_images().keys(), pairs)) == TINY_LFW_SUBSET


def test_the_subset_rule_refuses_pairs_whose_images_are_absent(tmp_path):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text(TINY_LFW_PAIRS)
    images = set(tiny_lfw_images()) - {"Eve_Ewe/Eve_Ewe_0001.jpg"}
    with pytest.raises(DataFileError, match=r"1 images named by folds \[1, 2\].*Eve_Ewe_0001"):
        lfw_subset(images, pairs)


def test_the_rule_applied_to_the_shared_copy_gives_back_its_5614_images(faces_root):
    """The shared copy is the subset; its people with >= 10 images are complete in it."""
    folder = lfw_folder(faces_root)
    names = [p.relative_to(folder.parent).as_posix() for p in folder.rglob("*.jpg")]
    images = images_by_name(names, LFW_IMAGE)
    assert set(images.values()) == set(names)  # prefix "lfw-deepfunneled/" stripped from all
    subset = lfw_subset(images.keys(), folder / "pairs.txt")
    assert len(subset) == 5_614
    assert subset == set(load_checksums("lfw_subset")) - {"pairs.txt"}


def test_the_shared_copies_match_the_shipped_lists(faces_root):
    verify_folder(lfw_folder(faces_root), load_checksums("lfw_subset"), "LFW", "fix")
    verify_folder(att_faces_folder(faces_root), load_checksums("att_faces"), "AT&T", "fix")


def test_a_changed_or_missing_file_is_named(tmp_path):
    files = {"s1/1.pgm": b"one", "s1/2.pgm": b"two", "s2/1.pgm": b"three"}
    checksums = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(data)
    (tmp_path / "s1" / "2.pgm").write_bytes(b"TWO")
    (tmp_path / "s2" / "1.pgm").unlink()
    (tmp_path / "notes.txt").write_text("not listed, left alone")
    with pytest.raises(DataFileError) as error:
        verify_folder(tmp_path, checksums, "the faces", "restore them")
    assert str(error.value).endswith(
        "of its 3 files, 1 missing (e.g. s2/1.pgm) and 1 with another SHA-256 (e.g. s1/2.pgm); "
        "restore them"
    )


def test_images_are_found_under_any_single_top_folder_and_hidden_files_are_skipped():
    names = [
        "att_faces/README",
        "att_faces/s1/1.pgm",
        "att_faces/s12/10.pgm",
        "__MACOSX/att_faces/s1/._1.pgm",
    ]
    assert images_by_name(names, ATT_IMAGE) == {
        "s1/1.pgm": "att_faces/s1/1.pgm",
        "s12/10.pgm": "att_faces/s12/10.pgm",
    }
    with pytest.raises(DataFileError, match="several folders"):
        images_by_name(["a/s1/1.pgm", "b/s1/1.pgm"], ATT_IMAGE)


@pytest.mark.parametrize("pack", [tar_gz, zip_of])
def test_only_the_listed_files_are_extracted_and_each_is_verified(pack, tmp_path):
    files = {"top/s1/1.pgm": b"one", "top/s1/2.pgm": b"two", "top/README": b"readme"}
    archive = tmp_path / "faces.archive"
    archive.write_bytes(pack(files))
    members = images_by_name(archive_files(archive), ATT_IMAGE)
    checksums = {"s1/1.pgm": hashlib.sha256(b"one").hexdigest()}
    checksums["s1/2.pgm"] = hashlib.sha256(b"two").hexdigest()
    extract_verified(archive, members, checksums, tmp_path / "out")
    assert folder_files(tmp_path / "out") == {"s1/1.pgm": b"one", "s1/2.pgm": b"two"}

    checksums["s1/2.pgm"] = hashlib.sha256(b"2").hexdigest()
    with pytest.raises(DataFileError, match=r"s1/2\.pgm has SHA-256 .*expected"):
        extract_verified(archive, members, checksums, tmp_path / "refused")
    assert not (tmp_path / "refused").exists()  # nothing half-written is left


def test_extra_or_absent_files_refuse_the_archive(tmp_path):
    archive = tmp_path / "a.tgz"
    archive.write_bytes(tar_gz({"s1/1.pgm": b"one", "s1/2.pgm": b"two"}))
    members = images_by_name(archive_files(archive), ATT_IMAGE)
    one = {"s1/1.pgm": hashlib.sha256(b"one").hexdigest()}
    with pytest.raises(DataFileError, match=r"1 files are not in the book's list \(e\.g\. s1/2"):
        extract_verified(archive, members, one, tmp_path / "out")
    three = {**one, "s1/2.pgm": "0" * 64, "s1/3.pgm": "0" * 64}
    with pytest.raises(DataFileError, match=r"1 files of the book's list are not in it.*s1/3"):
        extract_verified(archive, members, three, tmp_path / "out")


@pytest.mark.parametrize("pack", [tar_gz, zip_of])
def test_a_truncated_archive_is_a_readable_error(pack, tmp_path):
    data = pack({f"s1/{n}.pgm": bytes([n]) * 5000 for n in range(1, 11)})
    archive = tmp_path / "cut.archive"
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFileError, match="cut.archive cannot be read .*truncated"):
        names = archive_files(archive)
        members = images_by_name(names, ATT_IMAGE)
        extract_verified(archive, members, dict.fromkeys(members, "0" * 64), tmp_path / "o")
