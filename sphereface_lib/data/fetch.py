"""Every data set of the book, verified before use and fetched from its public sources if missing.

:func:`ensure_data` checks MNIST (four files, each against its SHA-256), the LFW subset and the
AT&T faces (every file against the lists in ``checksums/``) under the data root. With
``download=True`` a missing set is fetched first (:mod:`sphereface_lib.data.download`): MNIST
from torchvision's mirrors, LFW from the deep-funneled archive and ``pairs.txt`` (the book's
subset is derived from them, :func:`sphereface_lib.data.archives.lfw_subset`), AT&T from its
zip. A set that is already there is never downloaded again, so a machine without internet works
with a data root copied onto it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sphereface_lib.data.archives import (
    ATT_IMAGE,
    LFW_IMAGE,
    archive_files,
    extract_verified,
    images_by_name,
    lfw_subset,
    load_checksums,
    verify_folder,
)
from sphereface_lib.data.download import RemoteFile, fetch
from sphereface_lib.data.errors import DataFileError
from sphereface_lib.data.faces import att_faces_folder, lfw_folder
from sphereface_lib.data.mnist import MNIST_FILES, load_mnist, mnist_folder
from sphereface_lib.data.paths import DATA_ENV, data_root

DATASETS = ("mnist", "lfw", "att")

# Sources are tried in order; whichever answers, every file the book takes is checked against
# the lists in checksums/, so a mirror that serves other bytes is refused, never used.
LFW_ARCHIVE = RemoteFile(
    "lfw-deepfunneled.tgz",
    (
        "https://vis-www.cs.umass.edu/lfw/lfw-deepfunneled.tgz",  # UMass Amherst, the publisher
        "http://vis-www.cs.umass.edu/lfw/lfw-deepfunneled.tgz",  # its historical address
        # The Internet Archive's "lfw-dataset" item (a zip of the same tree) and its snapshot of
        # the UMass file; neither could be checked from the machine this was written on.
        "https://archive.org/download/lfw-dataset/lfw-deepfunneled.zip",
        "https://web.archive.org/web/2019id_/http://vis-www.cs.umass.edu/lfw/lfw-deepfunneled.tgz",
    ),
)
LFW_PAIRS = RemoteFile(  # its SHA-256 is the pairs.txt line of checksums/lfw_subset.sha256
    "pairs.txt",
    (
        "https://vis-www.cs.umass.edu/lfw/pairs.txt",
        "http://vis-www.cs.umass.edu/lfw/pairs.txt",
        "https://ndownloader.figshare.com/files/5976006",  # scikit-learn's copy, same SHA-256
        "https://raw.githubusercontent.com/davidsandberg/facenet/master/data/pairs.txt",
    ),
)
ATT_ARCHIVE = RemoteFile(
    "att_faces.zip",
    (
        "https://www.cl.cam.ac.uk/Research/DTG/attarchive/pub/data/att_faces.zip",  # the lab's
        "http://www.idiap.ch/software/bob/data/bob/att_faces.zip",  # Idiap's Bob toolkit
        "http://datasets.openimaj.org/att_faces.zip",  # the OpenIMAJ tutorials
        "https://web.archive.org/web/2016id_/"
        "https://www.cl.cam.ac.uk/Research/DTG/attarchive/pub/data/att_faces.zip",
    ),
)


@dataclass(frozen=True)
class DataStatus:
    """What :func:`ensure_data` found for one set."""

    dataset: str
    folder: Path
    files: int  # verified
    fetched: bool  # downloaded in this call

    def __str__(self) -> str:
        how = "downloaded and verified" if self.fetched else "verified"
        return f"{self.dataset}: {self.files:,} files {how} (SHA-256) in {self.folder}"


def ensure_data(
    datasets: Sequence[str] = DATASETS,
    root: str | os.PathLike[str] | None = None,
    download: bool = False,
    progress: bool = True,
) -> list[DataStatus]:
    """Verify each of ``datasets`` under the data root, fetching missing ones if ``download``.

    Raises :class:`DataFileError` with one line saying what is missing or wrong and what to do.
    """
    unknown = sorted(set(datasets) - set(DATASETS))
    if unknown:
        raise ValueError(f"unknown data set(s) {unknown}; choose from {', '.join(DATASETS)}")
    ensure: dict[str, Callable[..., DataStatus]] = {
        "mnist": ensure_mnist,
        "lfw": ensure_lfw,
        "att": ensure_att,
    }
    return [ensure[name](root, download=download, progress=progress) for name in datasets]


def _fetch_command(dataset: str, root: str | os.PathLike[str] | None) -> str:
    where = f" --data-root {root}" if root is not None else ""
    return f"`python -m sphereface_lib data --download --dataset {dataset}{where}`"


def _instead(what: str, folder: Path) -> str:
    """The end of a download error: how to do without the download."""
    return (
        f"without access to the sources, put {what} in {folder} yourself ({DATA_ENV} chooses "
        "the data root)"
    )


def _say(progress: bool, text: str) -> None:
    if progress:
        print(text, file=sys.stderr, flush=True)


def ensure_mnist(
    root: str | os.PathLike[str] | None = None,
    download: bool = False,
    progress: bool = True,
    urls: Mapping[str, Sequence[str]] | None = None,
) -> DataStatus:
    """The four MNIST files: missing ones fetched (if ``download``), all loaded and verified."""
    folder = mnist_folder(root)
    missing = [f for files in MNIST_FILES.values() for f in files if not (folder / f.name).exists()]
    if missing and download:
        from torchvision.datasets import MNIST  # its mirrors: the torchvision way, as before

        for file in missing:
            remote = RemoteFile(file.name, tuple(m + file.name for m in MNIST.mirrors), file.sha256)
            _say(progress, f"mnist: fetching {file.name}")
            fix = _instead(f"the file {file.name}", folder)
            fetch(remote, folder, progress=progress, urls=(urls or {}).get(file.name), fix=fix)
    for split in ("train", "test"):  # checks every file's SHA-256 and header
        try:
            load_mnist(split, root)
        except DataFileError:
            if not download:
                raise
            load_mnist(split, root, download=True)  # mnist.py's way with a damaged file
    return DataStatus("mnist", folder, 4, fetched=bool(missing and download))


def ensure_lfw(
    root: str | os.PathLike[str] | None = None,
    download: bool = False,
    progress: bool = True,
    checksums: Mapping[str, str] | None = None,
    urls: Mapping[str, Sequence[str]] | None = None,
) -> DataStatus:
    """The book's LFW subset and ``pairs.txt`` in ``faces/lfw-deepfunneled``, every file verified.

    ``checksums`` replaces the shipped list and ``urls`` ({file name: URLs}) the sources (tests).
    """
    folder = lfw_folder(root)
    checksums = checksums if checksums is not None else load_checksums("lfw_subset")
    if not folder.exists():
        if not download:
            raise DataFileError(
                f"the LFW subset is missing: expected {folder} (one folder per person holding the "
                f"book's {len(checksums) - 1:,} deep-funneled images, and pairs.txt); put it "
                f"there, point {DATA_ENV} at a data root that has it, or fetch it on a machine "
                f"with internet with {_fetch_command('lfw', root)}"
            )
        _fetch_lfw(data_root(root) / "downloads", folder, checksums, progress, urls or {})
        return DataStatus("lfw", folder, len(checksums), fetched=True)
    fix = (
        "restore those files, or move the folder away and fetch a verified copy with "
        + _fetch_command("lfw", root)
    )
    verify_folder(folder, checksums, "the LFW subset", fix)
    return DataStatus("lfw", folder, len(checksums), fetched=False)


def _fetch_lfw(
    downloads: Path,
    folder: Path,
    checksums: Mapping[str, str],
    progress: bool,
    urls: Mapping[str, Sequence[str]],
) -> None:
    staging = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)  # left by an interrupted run
    _say(progress, "lfw: fetching pairs.txt")
    pairs_remote = dataclasses.replace(LFW_PAIRS, sha256=checksums["pairs.txt"])
    fix = _instead("the book's LFW subset and pairs.txt", folder)
    pairs = fetch(pairs_remote, downloads, None, progress, urls.get(pairs_remote.name), fix)

    def derive_subset(archive: Path) -> None:
        _say(progress, f"lfw: taking the book's subset out of {LFW_ARCHIVE.name}, verifying it")
        images = images_by_name(archive_files(archive), LFW_IMAGE)
        subset = lfw_subset(images.keys(), pairs)
        members = {name: images[name] for name in subset}
        extract_verified(archive, members, checksums, staging, added=("pairs.txt",))

    _say(progress, f"lfw: fetching {LFW_ARCHIVE.name}")
    archive = fetch(
        LFW_ARCHIVE, downloads, derive_subset, progress, urls.get(LFW_ARCHIVE.name), fix
    )
    shutil.copyfile(pairs, staging / "pairs.txt")
    _install(staging, folder, checksums, (archive, pairs))


def ensure_att(
    root: str | os.PathLike[str] | None = None,
    download: bool = False,
    progress: bool = True,
    checksums: Mapping[str, str] | None = None,
    urls: Mapping[str, Sequence[str]] | None = None,
) -> DataStatus:
    """The 400 AT&T (ORL) faces in ``faces/att_faces``, every file verified.

    ``checksums`` replaces the shipped list and ``urls`` ({file name: URLs}) the sources (tests).
    """
    folder = att_faces_folder(root)
    checksums = checksums if checksums is not None else load_checksums("att_faces")
    if not folder.exists():
        if not download:
            raise DataFileError(
                f"the AT&T faces are missing: expected {folder} (s1 .. s40, each with the PGM "
                f"images 1.pgm .. 10.pgm); put them there, point {DATA_ENV} at a data root that "
                f"has them, or fetch them on a machine with internet with "
                f"{_fetch_command('att', root)}"
            )
        _fetch_att(data_root(root) / "downloads", folder, checksums, progress, urls or {})
        return DataStatus("att", folder, len(checksums), fetched=True)
    fix = (
        "restore those files, or move the folder away and fetch a verified copy with "
        + _fetch_command("att", root)
    )
    verify_folder(folder, checksums, "the AT&T faces", fix)
    return DataStatus("att", folder, len(checksums), fetched=False)


def _fetch_att(
    downloads: Path,
    folder: Path,
    checksums: Mapping[str, str],
    progress: bool,
    urls: Mapping[str, Sequence[str]],
) -> None:
    staging = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)  # left by an interrupted run

    def take_images(archive: Path) -> None:
        images = images_by_name(archive_files(archive), ATT_IMAGE)
        extract_verified(archive, images, checksums, staging)

    _say(progress, f"att: fetching {ATT_ARCHIVE.name}")
    fix = _instead("the AT&T faces (s1 .. s40)", folder)
    archive = fetch(ATT_ARCHIVE, downloads, take_images, progress, urls.get(ATT_ARCHIVE.name), fix)
    _install(staging, folder, checksums, (archive,))


def _install(
    staging: Path, folder: Path, checksums: Mapping[str, str], downloads: Sequence[Path]
) -> None:
    """Move a verified set into place in one rename, then drop the downloads it came from."""
    lines = "".join(f"{digest}  {path}\n" for path, digest in checksums.items())
    (staging / "SHA256SUMS").write_text(lines)  # so that `sha256sum -c SHA256SUMS` works there
    staging.replace(folder)
    for path in downloads:
        path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: other downloads are in progress or kept
        downloads[0].parent.rmdir()
