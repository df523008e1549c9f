"""MNIST loading: checksums, truncation, bad headers, missing files and the download route."""

import gzip
import shutil

import numpy as np
import pytest
import torch

from sphereface_lib.data import MNIST_FILES, DataFileError, load_mnist, normalize_images
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
        (tmp_path / "mnist" / filename).write_bytes(b"not mnist")

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
