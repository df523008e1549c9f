"""The named face training sets: the six-identity LFW set for 3-D plots."""

import dataclasses

import pytest
import torch

from sphereface_lib.data.training_sets import (
    TrainingData,
    lfw_top_identities,
    lfw_training_identities,
    load_training_data,
    on_device,
)


def test_lfw_top6_holds_the_six_largest_training_identities(faces_root):
    everyone = lfw_training_identities(faces_root)
    sizes = {name: 0 for name in everyone.identities}
    for _, label in everyone.samples:
        sizes[everyone.identities[label]] += 1
    largest = sorted(sizes, key=lambda name: (-sizes[name], name))[:6]
    top = lfw_top_identities(faces_root, 6)
    assert top.identities == sorted(largest)
    data = load_training_data("lfw_top6", faces_root, test_limit=None)
    assert data.num_classes == 6
    assert len(data.train_labels) + len(data.test_labels) == sum(sizes[n] for n in largest)
    # The last tenth of each person is held out, so every person is in both splits.
    assert set(data.test_labels.tolist()) == set(range(6)) == set(data.train_labels.tolist())


def in_memory_set() -> TrainingData:
    images = torch.zeros(4, 1, 28, 28)
    labels = torch.arange(4)
    return TrainingData(images, labels, images[:2], labels[:2], 4, "shift")


def test_on_the_cpu_the_data_stay_where_they_are():
    data = in_memory_set()
    assert on_device(data, torch.device("cpu")) is data


def test_a_lazily_decoded_set_stays_on_the_host_even_for_a_gpu():
    data = in_memory_set()
    lazy = dataclasses.replace(data, train_images=object(), test_images=object())
    moved = on_device(lazy, torch.device("cuda"))  # nothing to move: decoded per batch
    assert moved.train_images is lazy.train_images and moved.test_images is lazy.test_images


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_gpu_holds_the_images_and_the_host_the_labels():
    moved = on_device(in_memory_set(), torch.device("cuda"))
    assert moved.train_images.is_cuda and moved.test_images.is_cuda
    assert not moved.train_labels.is_cuda
