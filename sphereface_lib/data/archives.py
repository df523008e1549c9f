"""The face sets as the book uses them: files taken out of a public archive, each verified.

The book pins every file it reads by its SHA-256, in the lists of ``checksums/`` (the format of
``sha256sum``, paths relative to the set's folder). An archive is accepted only when the files the
book takes from it are exactly the listed ones, byte for byte; nothing else in it is written out.

LFW (Huang et al., UMass Amherst TR 07-49, 2007): of the deep-funneled archive the book keeps
every image of the people with at least 10 images in LFW, plus every image named by folds 1 and 2
of the View 2 ``pairs.txt`` (:func:`lfw_subset`): 5,614 of its 13,233 images.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import shutil
import tarfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from importlib import resources
from pathlib import Path, PurePosixPath

from sphereface_lib.data.errors import DataFileError
from sphereface_lib.data.faces import read_lfw_pairs
from sphereface_lib.data.idx import sha256_of

LFW_MIN_IMAGES = 10  # people with this many images in LFW are kept whole
LFW_PAIR_FOLDS = (1, 2)  # the View 2 folds whose pair images are kept

# Archive members that are images of a face set, after any leading folders (the "prefix").
LFW_IMAGE = re.compile(r"(?P<prefix>(?:[^/]+/)*)(?P<name>(?P<person>[^/]+)/(?P=person)_\d{4}\.jpg)")
ATT_IMAGE = re.compile(r"(?P<prefix>(?:[^/]+/)*)(?P<name>s\d+/\d+\.pgm)")
_SHA256_LINE = re.compile(r"(?P<digest>[0-9a-f]{64}) [ *](?P<path>.+)")


def load_checksums(name: str) -> dict[str, str]:
    """A list shipped with the library (``"lfw_subset"``, ``"att_faces"``): path -> SHA-256."""
    text = resources.files("sphereface_lib.data").joinpath(f"checksums/{name}.sha256").read_text()
    return parse_checksums(text, f"checksums/{name}.sha256")


def parse_checksums(text: str, origin: str = "checksum list") -> dict[str, str]:
    """``sha256sum`` lines -> {relative POSIX path: digest}; refuses unsafe or repeated paths."""
    checksums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _SHA256_LINE.fullmatch(line.strip())
        path = PurePosixPath(match.group("path")) if match else None
        if match is None or path is None or not _is_plain_relative(path):
            raise ValueError(
                f"{origin}, line {number}: expected '<64 hex digits>  <relative path>' with no "
                f"'..', got {line!r}"
            )
        if path.as_posix() in checksums:
            raise ValueError(f"{origin}, line {number}: {path} is listed twice")
        checksums[path.as_posix()] = match.group("digest")
    return checksums


def _is_plain_relative(path: PurePosixPath) -> bool:
    return not path.is_absolute() and all(part not in ("", ".", "..") for part in path.parts)


def verify_folder(folder: Path, checksums: Mapping[str, str], what: str, fix: str) -> None:
    """Check every listed file of ``folder``; one :class:`DataFileError` names what differs.

    Files that are not listed are left alone (a folder may hold more than the book uses).
    """
    missing, changed = [], []
    for path, digest in checksums.items():
        file = folder / path
        if not file.is_file():
            missing.append(path)
        elif sha256_of(file) != digest:
            changed.append(path)
    if missing or changed:
        problems = [
            f"{len(items):,} {state} (e.g. {', '.join(items[:3])})"
            for items, state in ((missing, "missing"), (changed, "with another SHA-256"))
            if items
        ]
        raise DataFileError(
            f"{what} in {folder} is not the book's copy: of its {len(checksums):,} files, "
            f"{' and '.join(problems)}; {fix}"
        )


def archive_files(archive: Path) -> list[str]:
    """The names of the regular files in a tar (any compression) or zip archive, in order."""
    with _readable(archive):
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as bundle:
                return [info.filename for info in bundle.infolist() if not info.is_dir()]
        with tarfile.open(archive, "r|*") as bundle:
            return [member.name for member in bundle if member.isfile()]


def read_archive_files(archive: Path, wanted: Collection[str]) -> Iterator[tuple[str, bytes]]:
    """(name, contents) of the archive's files named in ``wanted``, in archive order."""
    with _readable(archive):
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as bundle:
                for info in bundle.infolist():
                    if info.filename in wanted and not info.is_dir():
                        yield info.filename, bundle.read(info)
            return
        with tarfile.open(archive, "r|*") as bundle:  # one forward pass, as for a download
            for member in bundle:
                if member.isfile() and member.name in wanted:
                    stream = bundle.extractfile(member)
                    if stream is not None:
                        yield member.name, stream.read()


@contextmanager
def _readable(archive: Path) -> Iterator[None]:
    """Turn the many ways a damaged archive fails into one :class:`DataFileError`."""
    try:
        yield
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise DataFileError(
            f"archive {archive.name} cannot be read ({error}); it is truncated or not a tar or "
            "zip archive"
        ) from None


def images_by_name(files: Iterable[str], pattern: re.Pattern[str]) -> dict[str, str]:
    """{name relative to the set's folder: archive member} for the members matching ``pattern``.

    All matching members must share one prefix (the archive's top folders, such as
    ``lfw-deepfunneled/``), so that two copies of a set in one archive are not mixed.
    """
    found: dict[str, dict[str, str]] = {}
    for member in files:
        match = pattern.fullmatch(member)
        if match and not any(part.startswith(".") for part in member.split("/")):
            found.setdefault(match.group("prefix"), {})[match.group("name")] = member
    if len(found) > 1:
        shown = ", ".join(repr(prefix) for prefix in sorted(found)[:3])
        raise DataFileError(f"the archive holds the set under several folders ({shown})")
    return next(iter(found.values()), {})


def lfw_subset(
    images: Collection[str],
    pairs_file: Path,
    min_images: int = LFW_MIN_IMAGES,
    folds: Collection[int] = LFW_PAIR_FOLDS,
) -> set[str]:
    """The book's LFW images among ``images`` (``<person>/<person>_<NNNN>.jpg``, the whole set).

    Every image of each person with at least ``min_images`` images, plus every image that the
    pairs of ``folds`` in ``pairs_file`` name. Fails when a pair names an image not in ``images``.
    """
    per_person = Counter(name.split("/")[0] for name in images)
    kept = {name for name in images if per_person[name.split("/")[0]] >= min_images}
    pairs = read_lfw_pairs(pairs_file, image_folder=Path(), folds=folds)
    named = {path.as_posix() for pair in pairs for path in (pair.path_a, pair.path_b)}
    absent = sorted(named - set(images))
    if absent:
        raise DataFileError(
            f"{len(absent):,} images named by folds {sorted(folds)} of {pairs_file.name} are "
            f"not in the archive (e.g. {', '.join(absent[:3])})"
        )
    return kept | named


def extract_verified(
    archive: Path,
    members: Mapping[str, str],
    checksums: Mapping[str, str],
    into: Path,
    added: Collection[str] = (),
) -> None:
    """Write the archive ``members`` ({relative name: member}) under ``into``, each verified.

    Refused, with nothing left under ``into``, unless the names are exactly those of
    ``checksums`` less the ``added`` ones (files the caller writes itself, such as pairs.txt) and
    every file has its listed SHA-256.
    """
    expected = set(checksums) - set(added)
    for names, state in (
        (set(members) - expected, "are not in the book's list"),
        (expected - set(members), "of the book's list are not in it"),
    ):
        if names:
            shown = ", ".join(sorted(names)[:3])
            raise DataFileError(
                f"{len(names):,} files {state} (e.g. {shown}): the archive is not the one the "
                "book was built from"
            )
    by_member = {member: name for name, member in members.items()}
    written = set()
    try:
        for member, contents in read_archive_files(archive, by_member):
            name = by_member[member]
            actual = hashlib.sha256(contents).hexdigest()
            if actual != checksums[name]:
                raise DataFileError(
                    f"{name} has SHA-256 {actual}, expected {checksums[name]}: the archive is "
                    "damaged or not the one the book was built from"
                )
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(contents)
            written.add(name)
        if len(written) != len(members):
            absent = sorted(set(members) - written)
            raise DataFileError(f"{', '.join(absent[:3])} could not be read from the archive")
    except BaseException:
        shutil.rmtree(into, ignore_errors=True)
        raise
