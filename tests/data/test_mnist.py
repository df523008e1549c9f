"""MNIST loading: checksums, truncation, bad headers, missing files and the download route."""

import gzip
import shutil

import numpy as np
import pytest
import torch

from sphereface_lib.data import MNIST_FILES, DataFileError, load_mnist, normalize_images
from sphereface_lib.data import idx as idx_module
from sphereface_lib.data import mnist as mnist_module
from sphereface_lib.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx


def write_idx(path, magic, array, compress=True):
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(path, "wb") as stream:
            stream.write(payload)
    else:
        path.write_bytes(payload)


def test_the_real_files_load_with_the_documented_counts(data_root):
    train = load_mnist("train", data_root)
    test = load_mnist("test", data_root)
    assert train.images.shape == (60_000, 28, 28) and train.images.dtype == torch.uint8
    assert test.images.shape == (10_000, 28, 28)
    assert train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert torch.bincount(test.labels).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]


def test_the_data_root_comes_from_the_environment(data_root, monkeypatch):
    monkeypatch.setenv("SPHEREFACE_DATA", str(data_root))
    assert len(load_mnist("test")) == 10_000


def test_missing_file_names_it_and_says_how_to_fix(tmp_path):
    with pytest.raises(DataFileError) as error:
        load_mnist("test", tmp_path)
    message = str(error.value)
    assert "t10k-images-idx3-ubyte.gz" in message and "is missing" in message
    assert "SPHEREFACE_DATA" in message and "download" in message


def test_checksum_failure_names_file_and_expected_digest(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx(folder / "t10k-images-idx3-ubyte.gz", IMAGES_MAGIC, np.zeros((3, 28, 28)))
    with pytest.raises(DataFileError) as error:
        load_mnist("test", tmp_path)
    message = str(error.value)
    expected = MNIST_FILES["test"][0].sha256
    assert "t10k-images-idx3-ubyte.gz has SHA-256" in message and expected in message
    assert "SPHEREFACE_DATA" in message


def test_truncated_real_file_is_reported_as_truncated(data_root, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    source = data_root / "mnist" / "t10k-images-idx3-ubyte.gz"
    (folder / source.name).write_bytes(source.read_bytes()[:100_000])
    with pytest.raises(
        DataFileError, match=r"100,000 bytes, expected 1,648,877: the file is truncated"
    ):
        load_mnist("test", tmp_path)


def test_corrupted_byte_in_real_file_fails_the_checksum(data_root, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for file in MNIST_FILES["test"]:
        shutil.copy(data_root / "mnist" / file.name, folder / file.name)
    path = folder / MNIST_FILES["test"][1].name
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DataFileError, match="t10k-labels-idx1-ubyte.gz has SHA-256"):
        load_mnist("test", tmp_path)


def test_parser_reports_wrong_magic(tmp_path):
    path = tmp_path / "labels.gz"
    write_idx(path, IMAGES_MAGIC, np.zeros((2, 28, 28)))
    with pytest.raises(DataFileError, match="magic number 2051, expected 2049"):
        read_idx(path, LABELS_MAGIC)


def test_parser_reports_a_truncated_gzip_stream(tmp_path):
    path = tmp_path / "images.gz"
    write_idx(path, IMAGES_MAGIC, np.arange(5 * 28 * 28).reshape(5, 28, 28) % 251)
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(DataFileError, match="cannot be decompressed.*truncated"):
        read_idx(path, IMAGES_MAGIC)


def test_parser_reports_a_body_shorter_than_its_header(tmp_path):
    path = tmp_path / "images"
    write_idx(path, IMAGES_MAGIC, np.zeros((5, 28, 28)), compress=False)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataFileError, match=r"header \(shape \(5, 28, 28\)\) needs"):
        read_idx(path, IMAGES_MAGIC)


def test_parser_reads_what_was_written(tmp_path):
    array = (np.arange(4 * 28 * 28).reshape(4, 28, 28) % 256).astype(np.uint8)
    write_idx(tmp_path / "x.gz", IMAGES_MAGIC, array)
    assert np.array_equal(read_idx(tmp_path / "x.gz", IMAGES_MAGIC), array)


def test_download_goes_through_torchvision_and_is_verified(data_root, tmp_path, monkeypatch):
    """The download route, with the network replaced by a copy from the local data root."""
    import torchvision.datasets.utils as tv_utils

    fetched = []

    def fake_download(url, root, filename, md5):
        fetched.append(url)
        shutil.copy(data_root / "mnist" / filename, f"{root}/{filename}")
        assert tv_utils.check_md5(f"{root}/{filename}", md5)

    monkeypatch.setattr(tv_utils, "download_url", fake_download)
    split = load_mnist("test", tmp_path, download=True)
    assert len(split) == 10_000
    assert all(url.startswith("https://") for url in fetched) and len(fetched) == 4


def test_download_of_a_corrupt_file_is_an_error(tmp_path, monkeypatch):
    import torchvision.datasets.utils as tv_utils

    def fake_download(url, root, filename, md5):
        (tmp_path / "mnist" / root.split("/")[-1] / filename).write_bytes(b"not mnist")

    monkeypatch.setattr(tv_utils, "download_url", fake_download)
    with pytest.raises(DataFileError, match="has SHA-256"):
        mnist_module.download_mnist(tmp_path)


def test_download_failure_on_every_mirror_is_a_clear_error(tmp_path, monkeypatch):
    import torchvision.datasets.utils as tv_utils

    def offline(url, root, filename, md5):
        raise OSError("network is unreachable")

    monkeypatch.setattr(tv_utils, "download_url", offline)
    with pytest.raises(DataFileError, match="could not download .* from any torchvision mirror"):
        load_mnist("train", tmp_path, download=True)


def test_unknown_split_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_mnist("validation", tmp_path)


def test_normalisation_is_the_papers():
    images = torch.tensor([[[0, 255]]], dtype=torch.uint8)
    assert normalize_images(images).tolist() == [[[[-127.5 / 128, 127.5 / 128]]]]


def copy_from(data_root, fetched):
    def fake_download(url, root, filename, md5):
        fetched.append(filename)
        shutil.copy(data_root / "mnist" / filename, f"{root}/{filename}")

    return fake_download


def test_download_replaces_a_damaged_file_and_keeps_it_aside(data_root, tmp_path, monkeypatch):
    """The advice of a checksum error, --download, now works instead of skipping the file."""
    import torchvision.datasets.utils as tv_utils

    folder = tmp_path / "mnist"
    folder.mkdir()
    for file in MNIST_FILES["test"]:
        shutil.copy(data_root / "mnist" / file.name, folder / file.name)
    damaged = folder / "t10k-labels-idx1-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(DataFileError, match="has SHA-256"):
        load_mnist("test", tmp_path)
    fetched = []
    monkeypatch.setattr(tv_utils, "download_url", copy_from(data_root, fetched))
    assert len(load_mnist("test", tmp_path, download=True)) == 10_000
    assert "t10k-labels-idx1-ubyte.gz" in fetched and "t10k-images-idx3-ubyte.gz" not in fetched
    kept = folder / "t10k-labels-idx1-ubyte.gz.corrupt"
    assert kept.read_bytes().endswith(b"0123456789")
    assert not [p for p in folder.iterdir() if p.name.startswith(".download")]


def test_a_failed_download_leaves_the_damaged_file_in_place(tmp_path, monkeypatch):
    import torchvision.datasets.utils as tv_utils

    (tmp_path / "mnist").mkdir()
    damaged = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    damaged.write_bytes(b"damaged")

    def offline(url, root, filename, md5):
        raise OSError("network is unreachable")

    monkeypatch.setattr(tv_utils, "download_url", offline)
    with pytest.raises(DataFileError, match="could not download"):
        mnist_module.download_mnist(tmp_path)
    assert damaged.read_bytes() == b"damaged"


def test_a_data_root_that_is_a_file_is_a_one_line_error(tmp_path, monkeypatch):
    (tmp_path / "data").write_text("not a folder")
    monkeypatch.setenv("SPHEREFACE_DATA", str(tmp_path / "data"))
    for download in (False, True):
        with pytest.raises(DataFileError, match=r"data root .*data is a file, not a folder"):
            load_mnist("test", download=download)
    with pytest.raises(DataFileError, match=r"lies under .*data, which is a file"):
        load_mnist("test", tmp_path / "data" / "deeper", download=True)


@pytest.mark.parametrize("how", ["a folder in its place", "no read permission"])
def test_an_unreadable_mnist_file_is_a_one_line_error(how, data_root, tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for file in MNIST_FILES["test"]:
        shutil.copy(data_root / "mnist" / file.name, folder / file.name)
    target = folder / "t10k-labels-idx1-ubyte.gz"
    if how == "a folder in its place":
        target.unlink()
        target.mkdir()
        message = r"t10k-labels-idx1-ubyte\.gz cannot be read \(Is a directory\)"
    else:
        # Simulated: the tests may run as root, whom chmod 000 does not stop.
        def refuse(path, *args, **kwargs):
            if str(path) == str(target):
                raise PermissionError(13, "Permission denied", str(path))
            return open(path, *args, **kwargs)

        monkeypatch.setattr(idx_module, "open", refuse, raising=False)
        message = r"t10k-labels-idx1-ubyte\.gz cannot be read \(Permission denied\); make it"
    with pytest.raises(DataFileError, match=message) as error:
        load_mnist("test", tmp_path)
    assert "\n" not in str(error.value)
