"""Lazily decoded faces and the CASIA-WebFace recipe on a synthetic folder of identities."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from sphereface_lib.data.faces import FacePreprocess, load_images
from sphereface_lib.data.lazy import LazyFaceImages, take
from sphereface_lib.training import train
from sphereface_lib.training.config import preset


def make_identities(folder, identities=3, images=3, size=(96, 112)):
    """``identities`` folders of random RGB images of ``size`` (width, height)."""
    generator = np.random.default_rng(0)
    paths = []
    for identity in range(identities):
        person = folder / f"person_{identity}"
        person.mkdir(parents=True)
        for index in range(images):
            pixels = generator.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            path = person / f"{index:03d}.jpg"
            Image.fromarray(pixels).save(path, quality=95)
            paths.append(path)
    return paths


def test_lazy_images_decode_like_the_eager_loader(tmp_path):
    paths = make_identities(tmp_path)
    eager = load_images(paths, FacePreprocess(), progress=False)
    lazy = LazyFaceImages(paths, FacePreprocess(), threads=2)
    assert len(lazy) == 9 and lazy.shape == (9, 3, 112, 96)
    assert torch.equal(lazy[torch.tensor([4, 0])], eager[[4, 0]])
    assert torch.equal(lazy[2:5], eager[2:5])
    assert torch.equal(lazy[7], eager[7])
    subset = take(lazy, torch.tensor([1, 8]))
    assert isinstance(subset, LazyFaceImages) and torch.equal(subset[0:2], eager[[1, 8]])
    assert torch.equal(take(eager, torch.tensor([3])), eager[[3]])


def test_the_casia_recipe_trains_on_a_folder_of_identities(tmp_path):
    make_identities(tmp_path / "faces" / "CASIA-WebFace", identities=4, images=3)
    config = preset(
        "casia",
        net="sphere4_half",
        batch_size=4,
        max_steps=3,
        lr_milestones=(2,),
        device="cpu",
    )
    assert config.lr_schedule == "steps" and config.embedding_dim == 512
    result = train(config, tmp_path / "run", data_root=tmp_path, progress=False)
    record = json.loads((tmp_path / "run" / "result.json").read_text())
    assert record["num_classes"] == 4
    assert record["train_images"] == 8 and record["test_images"] == 4  # last image held out
    # 8 images in batches of 4: epoch 1 ends at update 2, the run at update 3 (epoch 1.5).
    assert [row["epoch"] for row in result.metrics] == [1.0, 1.5]
    assert result.metrics[0]["learning_rate"] == pytest.approx(0.1)  # update 2 (index 1)
    assert result.metrics[1]["learning_rate"] == pytest.approx(0.01)  # past the milestone
