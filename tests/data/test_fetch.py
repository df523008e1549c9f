"""ensure_data end to end: archives served on 127.0.0.1, subsets derived and verified, offline."""

import pytest

from sphereface_lib.data import DataFileError, att_faces_folder, lfw_folder, read_lfw_pairs
from sphereface_lib.data.download import MIRROR_ENV
from sphereface_lib.data.fetch import ensure_att, ensure_data, ensure_lfw, ensure_mnist
from tests.data.conftest import TINY_LFW_SUBSET
from tests.data.loopback import folder_files, public_layout, tar_gz, zip_of


def serve_lfw(server, tiny_lfw, archive=None):
    server.files["/pairs.txt"] = tiny_lfw.pairs
    server.files["/lfw-deepfunneled.tgz"] = archive if archive is not None else tiny_lfw.archive


def test_lfw_is_fetched_from_the_mirror_and_the_subset_derived(
    server, tiny_lfw, tmp_path, monkeypatch
):
    serve_lfw(server, tiny_lfw)
    monkeypatch.setenv(MIRROR_ENV, server.url)
    status = ensure_lfw(tmp_path, download=True, progress=False, checksums=tiny_lfw.checksums)
    folder = lfw_folder(tmp_path)
    assert status.fetched and status.folder == folder and status.files == 16
    files = folder_files(folder)
    assert sorted(files) == sorted([*TINY_LFW_SUBSET, "pairs.txt", "SHA256SUMS"])
    assert all(files[name] == tiny_lfw.files[name] for name in TINY_LFW_SUBSET)
    assert files["pairs.txt"] == tiny_lfw.pairs
    assert sorted(p.name for p in (tmp_path / "faces").iterdir()) == ["lfw-deepfunneled"]
    assert not (tmp_path / "downloads").exists()  # the archive is dropped once verified
    pairs = read_lfw_pairs(folder / "pairs.txt", folds=(1, 2), check_images=True)
    assert len(pairs) == 4

    requests = len(server.requests)
    again = ensure_lfw(tmp_path, download=True, progress=False, checksums=tiny_lfw.checksums)
    assert not again.fetched and len(server.requests) == requests  # never downloaded again


def test_a_corrupt_archive_is_refused_and_leaves_nothing(server, tiny_lfw, tmp_path):
    files = {f"lfw-deepfunneled/{name}": data for name, data in tiny_lfw.files.items()}
    files["lfw-deepfunneled/Bob_Bee/Bob_Bee_0002.jpg"] += b"\0"  # one image changed
    serve_lfw(server, tiny_lfw, archive=tar_gz(files))
    urls = {name: [server.url_of("/" + name)] for name in ("pairs.txt", "lfw-deepfunneled.tgz")}
    with pytest.raises(DataFileError) as error:
        ensure_lfw(tmp_path, True, False, tiny_lfw.checksums, urls)
    assert "lfw-deepfunneled.tgz: refused, Bob_Bee/Bob_Bee_0002.jpg has SHA-256" in str(error.value)
    faces = tmp_path / "faces"
    assert not faces.exists() or list(faces.iterdir()) == []
    assert [p.name for p in (tmp_path / "downloads").iterdir()] == ["pairs.txt"]  # verified, kept


def test_an_archive_whose_rule_yields_other_files_is_refused(server, tiny_lfw, tmp_path):
    files = {f"lfw-deepfunneled/{name}": data for name, data in tiny_lfw.files.items()}
    files["lfw-deepfunneled/Fay_Few/Fay_Few_0010.jpg"] = b"a tenth image"  # Fay_Few now counts
    serve_lfw(server, tiny_lfw, archive=tar_gz(files))
    urls = {name: [server.url_of("/" + name)] for name in ("pairs.txt", "lfw-deepfunneled.tgz")}
    with pytest.raises(DataFileError, match=r"10 files are not in the book's list.*Fay_Few"):
        ensure_lfw(tmp_path, True, False, tiny_lfw.checksums, urls)


def test_a_pairs_file_with_another_checksum_is_refused(server, tiny_lfw, tmp_path):
    serve_lfw(server, tiny_lfw)
    server.files["/pairs.txt"] = tiny_lfw.pairs.replace(b"Bob_Bee\t1\t3", b"Bob_Bee\t1\t2")
    urls = {name: [server.url_of("/" + name)] for name in ("pairs.txt", "lfw-deepfunneled.tgz")}
    with pytest.raises(DataFileError, match=r"pairs\.txt: refused, SHA-256 .* expected"):
        ensure_lfw(tmp_path, True, False, tiny_lfw.checksums, urls)
    assert ("/lfw-deepfunneled.tgz", None) not in server.requests  # stopped before the archive


def test_the_next_mirror_is_used_when_one_is_down_or_serves_other_bytes(server, tiny_lfw, tmp_path):
    """Mirrors: one missing, one with a damaged archive, one serving a zip with nested folders."""
    damaged = {f"lfw-deepfunneled/{n}": d for n, d in tiny_lfw.files.items()}
    damaged["lfw-deepfunneled/Ann_Able/Ann_Able_0007.jpg"] = b"damaged"
    server.files["/damaged.tgz"] = tar_gz(damaged)
    nested = {f"lfw-deepfunneled/lfw-deepfunneled/{n}": d for n, d in tiny_lfw.files.items()}
    server.files["/kaggle-style.zip"] = zip_of(nested)
    server.files["/pairs.txt"] = tiny_lfw.pairs
    urls = {
        "pairs.txt": [server.url_of("/gone/pairs.txt"), server.url_of("/pairs.txt")],
        "lfw-deepfunneled.tgz": [
            server.url_of(path) for path in ("/gone.tgz", "/damaged.tgz", "/kaggle-style.zip")
        ],
    }
    status = ensure_lfw(tmp_path, True, False, tiny_lfw.checksums, urls)
    assert status.fetched
    assert [path for path, _ in server.requests] == [
        "/gone/pairs.txt",
        "/pairs.txt",
        "/gone.tgz",
        "/damaged.tgz",
        "/kaggle-style.zip",
    ]
    assert sorted(folder_files(lfw_folder(tmp_path))) == sorted(
        [*TINY_LFW_SUBSET, "pairs.txt", "SHA256SUMS"]
    )


def test_att_faces_are_fetched_from_their_zip(server, tiny_att, tmp_path, monkeypatch):
    server.files["/att_faces.zip"] = tiny_att.archive
    monkeypatch.setenv(MIRROR_ENV, server.url)
    status = ensure_att(tmp_path, download=True, progress=False, checksums=tiny_att.checksums)
    assert status.fetched and status.files == 6
    files = folder_files(att_faces_folder(tmp_path))
    assert {name: files[name] for name in tiny_att.files} == tiny_att.files
    assert sorted(files) == sorted([*tiny_att.files, "SHA256SUMS"])  # README not taken


@pytest.mark.parametrize("dataset", ["lfw", "att"])
def test_offline_a_missing_set_is_one_line_saying_what_to_put_where(dataset, tmp_path):
    with pytest.raises(DataFileError) as error:
        ensure_data([dataset], tmp_path, download=False, progress=False)
    message = str(error.value)
    folder = lfw_folder(tmp_path) if dataset == "lfw" else att_faces_folder(tmp_path)
    assert "\n" not in message and f"expected {folder} (" in message
    assert "SPHEREFACE_DATA" in message
    assert f"python -m sphereface_lib data --download --dataset {dataset} --data-root" in message


def test_a_present_set_that_differs_is_refused_not_replaced(server, tiny_att, tmp_path):
    server.files["/att_faces.zip"] = tiny_att.archive
    urls = {"att_faces.zip": [server.url_of("/att_faces.zip")]}
    ensure_att(tmp_path, True, False, tiny_att.checksums, urls)
    image = att_faces_folder(tmp_path) / "s2" / "1.pgm"
    image.write_bytes(b"edited")
    for download in (False, True):
        with pytest.raises(DataFileError, match=r"1 with another SHA-256 \(e\.g\. s2/1\.pgm\)"):
            ensure_att(tmp_path, download, False, tiny_att.checksums, urls)
    assert image.read_bytes() == b"edited" and len(server.requests) == 1


def test_mnist_is_fetched_from_a_mirror_and_verified(server, data_root, tmp_path, monkeypatch):
    for path in sorted((data_root / "mnist").glob("*.gz")):
        server.files["/" + path.name] = path.read_bytes()
    monkeypatch.setenv(MIRROR_ENV, server.url)
    status = ensure_mnist(tmp_path, download=True, progress=False)
    assert status.fetched and status.files == 4
    assert sorted(path for path, _ in server.requests) == sorted(server.files)
    assert not ensure_mnist(tmp_path, download=True, progress=False).fetched


def test_unknown_sets_are_named():
    with pytest.raises(ValueError, match=r"unknown data set\(s\) \['casia'\]; choose from mnist"):
        ensure_data(["casia"])


@pytest.mark.slow
def test_every_set_is_fetched_into_an_empty_root_from_a_mirror_of_the_shared_copy(
    server, faces_root, tmp_path, monkeypatch
):
    """The shipped checksum lists against archives laid out like the public ones."""
    server.files.update({"/" + name: data for name, data in public_layout(faces_root).items()})
    monkeypatch.setenv(MIRROR_ENV, server.url)
    statuses = ensure_data(root=tmp_path, download=True, progress=False)
    assert [(s.dataset, s.files, s.fetched) for s in statuses] == [
        ("mnist", 4, True),
        ("lfw", 5_615, True),
        ("att", 400, True),
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faces", "mnist"]
    verified = ensure_data(root=tmp_path, download=False, progress=False)
    assert not any(status.fetched for status in verified)
