"""Face images: folders of identities, the paper's 112x96 preprocessing and the LFW pairs file.

Liu et al., CVPR 2017, Section 4.1: faces are aligned with five landmarks and cropped to 112x96
(height x width); "each pixel ([0, 255]) in RGB images is normalized by subtracting 127.5 and then
being divided by 128". Without landmarks, a fixed box is cropped instead (see
:data:`LFW_DEEPFUNNELED_CROP`). Face sets live in ``<data root>/faces/``: ``lfw-deepfunneled/``
(one folder per identity, plus ``pairs.txt``) and ``att_faces/`` (``s1`` .. ``s40``).

LFW: G. B. Huang, M. Ramesh, T. Berg, E. Learned-Miller, "Labeled Faces in the Wild", UMass
Amherst TR 07-49, 2007.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from sphereface_lib.common.integrity import CorruptFileError, load_checked, save_checked
from sphereface_lib.common.progress import progress_bar
from sphereface_lib.data.errors import DataFileError
from sphereface_lib.data.paths import DATA_ENV, data_root, unreadable

FACE_SIZE = (112, 96)  # (height, width), paper Section 4.1
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".pgm"})

# A (left, upper, right, lower) box in the 250x250 deep-funneled LFW images. Fitted by eye on the
# mean of 562 images so that, once resized to 112x96, the mean face's eyes and mouth fall near the
# five reference landmarks of the SphereFace alignment (eyes at y = 52, mouth corners at y = 92).
LFW_DEEPFUNNELED_CROP = (65, 46, 185, 186)

LFW_PAIRS_MD5 = "9f1ba174e4e1c508ff7cdf10ac338a7d"  # of the official View 2 pairs.txt
_POSITIVE = re.compile(r"[1-9][0-9]*")
_CACHE_FORMAT = 2  # 2: the pixels carry a checksum


def lfw_folder(root: str | os.PathLike[str] | None = None) -> Path:
    """``<data root>/faces/lfw-deepfunneled``: identity folders and ``pairs.txt``."""
    return data_root(root) / "faces" / "lfw-deepfunneled"


def att_faces_folder(root: str | os.PathLike[str] | None = None) -> Path:
    """``<data root>/faces/att_faces``: the AT&T (ORL) faces, ``s1`` .. ``s40``."""
    return data_root(root) / "faces" / "att_faces"


def read_image(path: str | os.PathLike[str]) -> Image.Image:
    """Decode an image file completely, so that a truncated file fails here and not later.

    16-bit greyscale images (PNG, or PGM with a maximum value above 255) come back as 8-bit
    ("L") images, each value scaled by 255 / 65535; images of other high-precision modes are
    refused.
    """
    path = Path(path)
    try:
        with Image.open(path) as image:
            image.load()
            return _eight_bits(image.copy(), path)
    except FileNotFoundError:
        raise DataFileError(
            f"image {path} does not exist; restore it, or point {DATA_ENV} at a complete copy "
            "of the face set"
        ) from None
    except (PermissionError, IsADirectoryError) as error:
        raise unreadable(path, error) from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise DataFileError(
            f"image {path} cannot be decoded ({error}); it is corrupt or truncated. Replace it "
            "with the original file, or delete it to leave it out"
        ) from None


def _eight_bits(image: Image.Image, path: Path) -> Image.Image:
    """``image`` with 8 bits per channel; PIL's own conversion would clip 16-bit values."""
    if image.mode.startswith("I;16") or image.mode == "I":
        # PIL scales PGM and PNG samples to 0..65535 whatever the file's maximum value.
        pixels = np.asarray(image).astype(np.int64)
        if pixels.size and (pixels.min() < 0 or pixels.max() > 65535):
            raise DataFileError(
                f"image {path} has 32-bit pixels outside 0..65535; convert it to an 8- or "
                "16-bit image"
            )
        return Image.fromarray(((pixels * 255 + 32767) // 65535).astype(np.uint8), "L")
    if image.mode == "F":
        raise DataFileError(
            f"image {path} has floating-point pixels (mode F); convert it to an 8-bit image"
        )
    return image


def read_face(path: Path, transform: Callable[[Image.Image], torch.Tensor]) -> torch.Tensor:
    """``transform(read_image(path))``; an image the transform cannot take names its path."""
    image = read_image(path)
    try:
        return transform(image)
    except ValueError as error:
        reason = str(error).split(";")[0]  # what is wrong, without advice for programmers
        raise DataFileError(
            f"image {path} ({image.width}x{image.height}) does not fit the preprocessing "
            f"({reason}); replace it with the set's original image, or delete it to leave it out"
        ) from None


def normalize_faces(images: torch.Tensor) -> torch.Tensor:
    """uint8 (..., C, H, W) -> float32 (pixel - 127.5) / 128 in [-0.996, 0.996], as the paper."""
    return (images.float() - 127.5) / 128.0


def random_horizontal_flip(
    images: torch.Tensor,
    probability: float = 0.5,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """A copy of images (N, C, H, W) in which each image is mirrored with ``probability``."""
    flip = torch.rand(images.shape[0], generator=generator) < probability
    flip = flip.to(images.device).view(-1, *[1] * (images.dim() - 1))
    return torch.where(flip, images.flip(-1), images)


@dataclass(frozen=True)
class FacePreprocess:
    """PIL image -> (C, 112, 96) face tensor: crop a box, resize, normalise, maybe mirror.

    ``C`` is 3 (RGB) or 1 when ``grayscale``. Deterministic unless ``flip_probability > 0``, which
    draws from torch's global generator (seeded by ``seed_everything``).
    """

    # The (left, upper, right, lower) box to keep, in source pixels. None keeps the largest centred
    # box with the 112:96 aspect ratio, which suits faces already cropped tightly (AT&T).
    crop: tuple[float, float, float, float] | None = None
    grayscale: bool = False  # one channel, e.g. for the grey AT&T faces
    flip_probability: float = 0.0  # > 0 only for training; evaluation mirrors explicitly

    @property
    def channels(self) -> int:
        return 1 if self.grayscale else 3

    def to_uint8(self, image: Image.Image) -> torch.Tensor:
        """The cropped and resized face as uint8 (C, 112, 96), before normalisation or flipping."""
        height, width = FACE_SIZE
        box = self.crop if self.crop is not None else centred_box(image.size, width / height)
        left, upper, right, lower = box
        if not (0 <= left < right <= image.width and 0 <= upper < lower <= image.height):
            raise ValueError(
                f"crop box {box} does not lie inside the {image.width}x{image.height} image; "
                "pass crop=None for a centred crop, or a box inside the image"
            )
        image = image.convert("L" if self.grayscale else "RGB")
        resized = image.resize((width, height), Image.Resampling.BILINEAR, box=box)
        pixels = torch.from_numpy(np.array(resized, dtype=np.uint8))
        return pixels.unsqueeze(0) if self.grayscale else pixels.permute(2, 0, 1).contiguous()

    def __call__(self, image: Image.Image) -> torch.Tensor:
        face = normalize_faces(self.to_uint8(image))
        if self.flip_probability > 0 and torch.rand(()) < self.flip_probability:
            face = face.flip(-1)
        return face


def centred_box(size: tuple[int, int], aspect_ratio: float) -> tuple[float, float, float, float]:
    """The largest box of ``width / height == aspect_ratio`` centred in an image of ``size``."""
    width, height = size
    crop_width, crop_height = min(width, height * aspect_ratio), min(height, width / aspect_ratio)
    left, upper = (width - crop_width) / 2, (height - crop_height) / 2
    return (left, upper, left + crop_width, upper + crop_height)


def _image_files(folder: Path) -> list[Path]:
    return sorted(
        path
        for path in folder.iterdir()
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()
    )


class FaceFolder(Dataset[tuple[torch.Tensor, int]]):
    """Faces stored one folder per identity (LFW, CASIA-WebFace, AT&T): ``<folder>/<name>/<image>``.

    ``identities`` are the kept folder names, sorted; an image's label is its identity's index.
    Files other than .jpg/.jpeg/.png/.pgm (any case) and hidden folders are ignored. Images are
    decoded when indexed; ``__getitem__`` returns (``transform(image)``, label).
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        identities: Iterable[str] | None = None,
        exclude: Collection[str] = (),
        min_images: int = 1,
        transform: Callable[[Image.Image], torch.Tensor] | None = None,
    ) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise DataFileError(
                f"face folder {self.folder} does not exist; expected one sub-folder per identity. "
                f"Check the path, or point {DATA_ENV} at a data root with faces/ in it"
            )
        found = sorted(
            path.name
            for path in self.folder.iterdir()
            if path.is_dir() and not path.name.startswith(".")
        )
        if identities is not None:
            wanted = sorted(set(identities))
            missing = sorted(set(wanted) - set(found))
            if missing:
                raise DataFileError(
                    f"{len(missing)} requested identities have no folder in {self.folder}, "
                    f"e.g. {missing[:5]}; check the spelling or leave them out"
                )
            found = wanted
        images = {name: _image_files(self.folder / name) for name in found if name not in exclude}
        # An empty identity folder is an error like a missing one: dropping it silently would
        # change the number of classes (or of verification pairs) without a word.
        empty = sorted(name for name, files in images.items() if not files)
        if empty:
            raise DataFileError(
                f"{len(empty)} identity folders in {self.folder} hold no images "
                f"({', '.join(sorted(IMAGE_SUFFIXES))}), e.g. {empty[:5]}; restore their "
                "images, or delete the empty folders to leave those identities out"
            )
        self.identities = [name for name, files in images.items() if len(files) >= min_images]
        if not self.identities:
            raise DataFileError(
                f"no identity folder in {self.folder} holds {min_images} or more images "
                f"({', '.join(sorted(IMAGE_SUFFIXES))}) after excluding {len(exclude)} identities; "
                "check the folder, or lower min_images"
            )
        self.samples = [
            (path, label) for label, name in enumerate(self.identities) for path in images[name]
        ]
        self.transform = transform if transform is not None else FacePreprocess()

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.samples[index]
        return read_face(path, self.transform), label


def _cache_key(paths: Sequence[Path], preprocess: FacePreprocess) -> str:
    """A hash of the preprocessing and of every file's path, size and modification time."""
    files = []
    for path in paths:
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise DataFileError(
                f"image {path} does not exist; restore it or leave it out"
            ) from None
        files.append((str(path.resolve()), stat.st_size, stat.st_mtime_ns))
    identity = {
        "format": _CACHE_FORMAT,
        "crop": preprocess.crop,
        "grayscale": preprocess.grayscale,
        "files": files,
    }
    return hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:16]


def load_images(
    paths: Sequence[str | os.PathLike[str]],
    preprocess: FacePreprocess | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    normalize: bool = True,
    progress: bool = True,
) -> torch.Tensor:
    """Decode and preprocess every image into one tensor (N, C, 112, 96), never flipped.

    float32 normalised faces, or the uint8 pixels when ``normalize=False`` (a quarter of the
    memory; normalise batches with :func:`normalize_faces`). With ``cache_dir`` the uint8 tensor is
    saved there as ``faces-<hash>.pt``, keyed by the preprocessing and the files' paths, sizes and
    modification times, so a rerun skips decoding.
    """
    preprocess = preprocess if preprocess is not None else FacePreprocess()
    files = [Path(path) for path in paths]
    cache_file = None
    if cache_dir is not None:
        cache_file = Path(cache_dir) / f"faces-{_cache_key(files, preprocess)}.pt"
    if cache_file is not None and cache_file.exists():
        try:
            pixels = load_checked(cache_file, "delete the file to decode the images again")[
                "pixels"
            ]
        except (CorruptFileError, KeyError) as error:
            raise DataFileError(f"cached faces {error}") from None
    else:
        pixels = torch.empty((len(files), preprocess.channels, *FACE_SIZE), dtype=torch.uint8)
        for index, path in enumerate(progress_bar(files, desc="decoding faces", enabled=progress)):
            pixels[index] = read_face(path, preprocess.to_uint8)
        if cache_file is not None:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            # Atomic, under a name unique to the process: a killed run never leaves a
            # half-written cache, and two processes decoding the same faces never collide.
            save_checked({"pixels": pixels}, cache_file)
    return normalize_faces(pixels) if normalize else pixels


@dataclass(frozen=True)
class FaceTensors:
    """A face set in memory. images: (N, C, 112, 96); labels: (N,) int64 indices into identities."""

    images: torch.Tensor
    labels: torch.Tensor
    identities: tuple[str, ...]
    paths: tuple[Path, ...]

    def __len__(self) -> int:
        return len(self.labels)


def load_face_tensors(
    faces: FaceFolder,
    preprocess: FacePreprocess | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    normalize: bool = True,
    progress: bool = True,
) -> FaceTensors:
    """Every image of ``faces`` in memory, preprocessed by ``preprocess`` or ``faces.transform``.

    Meant for small sets (the LFW subset, AT&T) trained on CPU; flip batches for augmentation
    with :func:`random_horizontal_flip`.
    """
    if preprocess is None:
        if not isinstance(faces.transform, FacePreprocess):
            raise TypeError(
                "faces.transform is not a FacePreprocess, so its output cannot be cached; "
                "pass preprocess=FacePreprocess(...) explicitly"
            )
        preprocess = faces.transform
    paths = [path for path, _ in faces.samples]
    images = load_images(paths, preprocess, cache_dir, normalize, progress)
    labels = torch.tensor([label for _, label in faces.samples], dtype=torch.int64)
    return FaceTensors(images, labels, tuple(faces.identities), tuple(paths))


@dataclass(frozen=True)
class FacePair:
    """One line of an LFW pairs file; ``fold`` counts from 1 as in the file."""

    path_a: Path
    path_b: Path
    same: bool
    fold: int


def _lfw_image(folder: Path, name: str, number: str) -> Path:
    return folder / name / f"{name}_{int(number):04d}.jpg"


def read_lfw_pairs(
    path: str | os.PathLike[str],
    image_folder: str | os.PathLike[str] | None = None,
    folds: Collection[int] | None = None,
    check_images: bool = False,
) -> list[FacePair]:
    """Read the LFW View 2 ``pairs.txt`` (Huang et al. 2007): ``<folds>\\t<n>``, then per fold n
    same-person lines ``name i j`` followed by n different-person lines ``name1 i name2 j``.

    Images resolve to ``<image_folder>/<name>/<name>_<iiii>.jpg`` (default: the file's folder).
    ``folds`` keeps only those folds (1-based); ``check_images`` fails if an image is missing.
    """
    path = Path(path)
    folder = Path(image_folder) if image_folder is not None else path.parent
    restore = f"restore the original file (MD5 {LFW_PAIRS_MD5})"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataFileError(
            f"LFW pairs file {path} does not exist; put the standard pairs.txt there, or point "
            f"{DATA_ENV} at a data root with faces/lfw-deepfunneled/pairs.txt"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataFileError(f"LFW pairs file {path} cannot be read ({error}); {restore}") from None
    while lines and not lines[-1].strip():
        lines.pop()
    header = lines[0].split() if lines else []
    if len(header) != 2 or not all(_POSITIVE.fullmatch(field) for field in header):
        text = lines[0] if lines else ""
        raise DataFileError(
            f"{path}, line 1: expected the View 2 header '<folds>\\t<pairs per class>' such as "
            f"'10\\t300', got {text!r}; {restore}"
        )
    num_folds, per_class = int(header[0]), int(header[1])
    if folds is not None and not set(folds) <= set(range(1, num_folds + 1)):
        raise ValueError(f"folds must lie in 1..{num_folds} (from the header), got {sorted(folds)}")
    expected_lines = 1 + num_folds * 2 * per_class
    if len(lines) != expected_lines:
        state = "is truncated" if len(lines) < expected_lines else "has extra lines"
        raise DataFileError(
            f"{path} has {len(lines)} lines but its header promises {num_folds} folds of "
            f"2 x {per_class} pairs ({expected_lines} lines): the file {state}; {restore}"
        )
    pairs = []
    for offset, text in enumerate(lines[1:]):
        fold, position = divmod(offset, 2 * per_class)
        same = position < per_class
        fields = text.split()
        # "name i j" or "name1 i name2 j": the image numbers are the second and the last field.
        numbers = (fields[1], fields[-1]) if len(fields) == (3 if same else 4) else ()
        if not numbers or not all(_POSITIVE.fullmatch(number) for number in numbers):
            kind = "name i j (same person)" if same else "name1 i name2 j (different people)"
            raise DataFileError(
                f"{path}, line {offset + 2}: expected '{kind}' with positive image numbers in "
                f"fold {fold + 1}, got {text!r}; {restore}"
            )
        if folds is not None and fold + 1 not in folds:
            continue
        name_a, name_b = fields[0], fields[0 if same else 2]
        path_a = _lfw_image(folder, name_a, numbers[0])
        path_b = _lfw_image(folder, name_b, numbers[1])
        pairs.append(FacePair(path_a, path_b, same, fold + 1))
    if check_images:
        missing = sorted(
            {p for pair in pairs for p in (pair.path_a, pair.path_b) if not p.exists()}
        )
        if missing:
            shown = ", ".join(str(p.relative_to(folder)) for p in missing[:5])
            raise DataFileError(
                f"{len(missing)} images named by {path.name} are missing from {folder}, e.g. "
                f"{shown}. The bundled LFW subset holds only folds 1 and 2: pass folds=(1, 2), "
                "or point image_folder at the full lfw-deepfunneled set"
            )
    return pairs


def pair_identities(pairs: Iterable[FacePair]) -> set[str]:
    """Every identity appearing in ``pairs``, to exclude from training for a disjoint test."""
    return {path.parent.name for pair in pairs for path in (pair.path_a, pair.path_b)}


@dataclass(frozen=True)
class PairTensors:
    """Verification pairs over a set of distinct images.

    images: (M, C, 112, 96); first, second: (P,) int64 indices into images;
    same: (P,) bool; fold: (P,) int64 fold of each pair.
    """

    images: torch.Tensor
    first: torch.Tensor
    second: torch.Tensor
    same: torch.Tensor
    fold: torch.Tensor

    def __len__(self) -> int:
        return len(self.same)


def load_pair_images(
    pairs: Sequence[FacePair],
    preprocess: FacePreprocess | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> PairTensors:
    """Load each distinct image of ``pairs`` once and index the pairs into them."""
    index: dict[Path, int] = {}
    for pair in pairs:
        for path in (pair.path_a, pair.path_b):
            index.setdefault(path, len(index))
    images = load_images(list(index), preprocess, cache_dir, progress=progress)
    return PairTensors(
        images=images,
        first=torch.tensor([index[pair.path_a] for pair in pairs], dtype=torch.int64),
        second=torch.tensor([index[pair.path_b] for pair in pairs], dtype=torch.int64),
        same=torch.tensor([pair.same for pair in pairs], dtype=torch.bool),
        fold=torch.tensor([pair.fold for pair in pairs], dtype=torch.int64),
    )
