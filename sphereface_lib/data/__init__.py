"""Data sets: MNIST from its IDX files, face folders and LFW pairs; paths from configuration."""

from sphereface_lib.data.errors import DataFileError
from sphereface_lib.data.mnist import (
    MNIST_FILES,
    MnistSplit,
    download_mnist,
    load_mnist,
    mnist_folder,
    normalize_images,
)
from sphereface_lib.data.paths import DATA_ENV, data_root, default_cache_root

__all__ = [
    "DATA_ENV",
    "MNIST_FILES",
    "DataFileError",
    "MnistSplit",
    "data_root",
    "default_cache_root",
    "download_mnist",
    "load_mnist",
    "mnist_folder",
    "normalize_images",
]
