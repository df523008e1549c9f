"""Face images decoded when a batch asks for them: for sets too large to hold in memory.

CASIA-WebFace (494,414 images) would take 16 GB as 112x96 uint8 tensors; a
:class:`LazyFaceImages` behaves like the (N, C, 112, 96) tensor the training loop indexes, but
decodes (in a thread pool) only the images of the requested batch.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch

from sphereface_lib.data.faces import FacePreprocess, normalize_faces, read_face


class LazyFaceImages:
    """``images[index]`` for an int, a slice or a 1-D index tensor -> float32 (n, C, 112, 96)."""

    def __init__(
        self,
        paths: Sequence[str | os.PathLike[str]],
        preprocess: FacePreprocess,
        threads: int | None = None,
    ) -> None:
        self.paths = [Path(path) for path in paths]
        self.preprocess = preprocess
        self.threads = threads or min(16, os.cpu_count() or 1)

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self), self.preprocess.channels, 112, 96)

    def subset(self, indices: torch.Tensor | slice) -> LazyFaceImages:
        """The images at ``indices``, still undecoded."""
        if isinstance(indices, slice):
            paths = self.paths[indices]
        else:
            paths = [self.paths[i] for i in indices.tolist()]
        return LazyFaceImages(paths, self.preprocess, self.threads)

    def __getitem__(self, index: int | slice | torch.Tensor) -> torch.Tensor:
        if isinstance(index, int):
            return self[torch.tensor([index])][0]
        if isinstance(index, slice):
            chosen = list(range(len(self))[index])
        else:
            chosen = [int(i) for i in index.tolist()]
        paths = [self.paths[i] for i in chosen]
        with ThreadPoolExecutor(self.threads) as pool:
            faces = list(pool.map(lambda p: read_face(p, self.preprocess.to_uint8), paths))
        if not faces:
            return torch.empty(0, *self.shape[1:])
        return normalize_faces(torch.stack(faces))


def take(images: torch.Tensor | LazyFaceImages, indices: torch.Tensor | slice) -> Any:
    """``images[indices]``, left undecoded when ``images`` is lazy."""
    if isinstance(images, LazyFaceImages):
        return images.subset(indices)
    return images[indices]
