"""Fixtures of the download tests: a loopback server and tiny archives with the real layouts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.data.loopback import LoopbackServer, checksums_of, jpeg, pgm, serving, tar_gz, zip_of

# Six people. Ann_Able has 10 images and Fay_Few 9: the rule keeps people with at least 10.
TINY_LFW_PEOPLE = {
    "Ann_Able": 10,
    "Bob_Bee": 3,
    "Cy_Sea": 2,
    "Dee_Dee": 4,
    "Eve_Ewe": 1,
    "Fay_Few": 9,
}
# View 2 layout with 3 folds of 1 same-person and 1 different-person pair each.
TINY_LFW_PAIRS = (
    "3\t1\n"
    "Bob_Bee\t1\t3\n"
    "Cy_Sea\t2\tEve_Ewe\t1\n"
    "Ann_Able\t2\t5\n"
    "Bob_Bee\t2\tAnn_Able\t10\n"
    "Dee_Dee\t1\t4\n"
    "Dee_Dee\t2\tCy_Sea\t1\n"
)
# The rule worked out by hand: all of Ann_Able, and the images of the pairs of folds 1 and 2.
TINY_LFW_SUBSET = sorted(
    [f"Ann_Able/Ann_Able_{n:04d}.jpg" for n in range(1, 11)]
    + [f"Bob_Bee/Bob_Bee_{n:04d}.jpg" for n in (1, 2, 3)]
    + ["Cy_Sea/Cy_Sea_0002.jpg", "Eve_Ewe/Eve_Ewe_0001.jpg"]
)


@dataclass(frozen=True)
class TinySet:
    """An archive's files, the archive itself, and the checksum list of what the book keeps."""

    files: dict[str, bytes]  # relative to the set's folder: every image in the archive
    archive: bytes
    checksums: dict[str, str]  # of the kept files (and of pairs.txt for LFW)
    pairs: bytes = b""


def tiny_lfw_images() -> dict[str, bytes]:
    return {
        f"{person}/{person}_{n:04d}.jpg": jpeg(seed=1000 * index + n)
        for index, (person, count) in enumerate(TINY_LFW_PEOPLE.items())
        for n in range(1, count + 1)
    }


@pytest.fixture
def tiny_lfw() -> TinySet:
    images = tiny_lfw_images()
    pairs = TINY_LFW_PAIRS.encode()
    kept = {name: images[name] for name in TINY_LFW_SUBSET}
    return TinySet(
        files=images,
        archive=tar_gz({f"lfw-deepfunneled/{name}": data for name, data in images.items()}),
        checksums=checksums_of({**kept, "pairs.txt": pairs}),
        pairs=pairs,
    )


@pytest.fixture
def tiny_att() -> TinySet:
    """Three subjects of two images, with the README beside them as in att_faces.zip."""
    images = {f"s{s}/{n}.pgm": pgm(seed=10 * s + n) for s in (1, 2, 10) for n in (1, 2)}
    return TinySet(
        files=images,
        archive=zip_of({"README": b"The ORL face database\n", **images}),
        checksums=checksums_of(images),
    )


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with serving() as owner:
        yield owner
