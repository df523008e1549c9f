"""Face folders, the 112x96 preprocessing, in-memory face sets and the LFW pairs file."""

import re

import numpy as np
import pytest
import torch
from PIL import Image

from sphereface_lib.common.integrity import save_checked
from sphereface_lib.data import (
    FACE_SIZE,
    LFW_DEEPFUNNELED_CROP,
    DataFileError,
    FaceFolder,
    FacePreprocess,
    att_faces_folder,
    lfw_folder,
    load_face_tensors,
    load_images,
    load_pair_images,
    normalize_faces,
    pair_identities,
    random_horizontal_flip,
    read_image,
    read_lfw_pairs,
)
from sphereface_lib.data.faces import read_face
from sphereface_lib.data.lazy import LazyFaceImages
from tests.common.test_integrity import flip_tensor_bytes

LIMIT = 127.5 / 128


def write_image(path, size=(20, 24), mode="RGB", seed=0):
    """A random image of size (width, height), saved in the format its suffix names."""
    channels = (3,) if mode == "RGB" else ()
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], *channels))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels.astype(np.uint8), mode).save(path)


@pytest.fixture
def tiny_faces(tmp_path):
    """Three identities of 3, 2 and 1 images in mixed formats, plus files to ignore."""
    root = tmp_path / "faces"
    write_image(root / "Ann" / "Ann_0001.jpg", seed=1)
    write_image(root / "Ann" / "Ann_0002.PNG", seed=2)
    write_image(root / "Ann" / "Ann_0003.pgm", mode="L", seed=3)
    write_image(root / "Bob" / "1.jpeg", seed=4)
    write_image(root / "Bob" / "2.png", seed=5)
    write_image(root / "Cy" / "only.jpg", seed=6)
    (root / "Ann" / "notes.txt").write_text("not an image")
    (root / "pairs.txt").write_text("a file beside the identity folders")
    (root / ".ipynb_checkpoints").mkdir()
    return root


def test_face_folder_lists_identities_and_samples(tiny_faces):
    faces = FaceFolder(tiny_faces)
    assert faces.identities == ["Ann", "Bob", "Cy"]
    assert [(path.name, label) for path, label in faces.samples] == [
        ("Ann_0001.jpg", 0),
        ("Ann_0002.PNG", 0),
        ("Ann_0003.pgm", 0),
        ("1.jpeg", 1),
        ("2.png", 1),
        ("only.jpg", 2),
    ]
    image, label = faces[2]
    assert image.shape == (3, 112, 96) and image.dtype == torch.float32 and label == 0


def test_face_folder_filters_identities(tiny_faces):
    assert FaceFolder(tiny_faces, exclude={"Bob"}).identities == ["Ann", "Cy"]
    assert FaceFolder(tiny_faces, min_images=2).identities == ["Ann", "Bob"]
    only = FaceFolder(tiny_faces, identities=["Cy", "Bob"])
    assert only.identities == ["Bob", "Cy"] and len(only) == 3
    assert only.samples[-1][1] == 1  # labels index the kept identities


def test_face_folder_errors_name_the_problem(tiny_faces, tmp_path):
    with pytest.raises(DataFileError, match="does not exist.*SPHEREFACE_DATA"):
        FaceFolder(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFileError, match="no identity folder in .*empty"):
        FaceFolder(tmp_path / "empty")
    with pytest.raises(DataFileError, match="lower min_images"):
        FaceFolder(tiny_faces, min_images=4)
    with pytest.raises(DataFileError, match=r"1 requested identities .*\['Dee'\]"):
        FaceFolder(tiny_faces, identities=["Ann", "Dee"])


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_image_raises_a_data_file_error_naming_it(tiny_faces, damage):
    path = tiny_faces / "Bob" / "2.png"
    data = path.read_bytes()
    path.write_bytes(b"not an image at all" if damage == "garbage" else data[: len(data) // 2])
    faces = FaceFolder(tiny_faces)
    with pytest.raises(DataFileError, match=r"Bob/2\.png cannot be decoded") as error:
        faces[4]
    assert error.value.__suppress_context__  # the PIL traceback is not shown
    with pytest.raises(DataFileError, match=r"Bob/2\.png"):
        load_face_tensors(faces, progress=False)


def test_preprocessing_gives_the_paper_input_in_range(tmp_path):
    path = tmp_path / "face.jpg"
    write_image(path, size=(250, 250))
    image = Image.open(path)
    for preprocess, channels in [
        (FacePreprocess(), 3),
        (FacePreprocess(crop=LFW_DEEPFUNNELED_CROP), 3),
        (FacePreprocess(grayscale=True), 1),
    ]:
        face = preprocess(image)
        assert face.shape == (channels, 112, 96) and face.dtype == torch.float32
        assert -LIMIT <= face.min() < face.max() <= LIMIT


def test_normalisation_is_the_papers_and_extreme_pixels_reach_the_limits():
    pixels = torch.tensor([0, 128, 255], dtype=torch.uint8)
    torch.testing.assert_close(normalize_faces(pixels), torch.tensor([-LIMIT, 0.5 / 128, LIMIT]))
    white = FacePreprocess()(Image.new("RGB", (92, 112), "white"))
    assert torch.all(white == LIMIT)


def test_crop_box_selects_the_region(tmp_path):
    image = Image.new("L", (200, 200), 0)
    image.paste(255, (50, 50, 146, 162))  # a white 96x112 box
    face = FacePreprocess(crop=(50, 50, 146, 162), grayscale=True).to_uint8(image)
    assert face.shape == (1, 112, 96) and torch.all(face == 255)
    with pytest.raises(ValueError, match="does not lie inside the 200x200 image"):
        FacePreprocess(crop=(0, 0, 250, 250)).to_uint8(image)


def test_flip_augmentation_mirrors(tmp_path):
    image = Image.fromarray(np.tile(np.arange(96, dtype=np.uint8), (112, 1)), "L")
    plain = FacePreprocess(grayscale=True)(image)
    flipped = FacePreprocess(grayscale=True, flip_probability=1.0)(image)
    assert torch.equal(flipped, plain.flip(-1)) and not torch.equal(flipped, plain)

    batch = torch.arange(4 * 2 * 3, dtype=torch.float32).view(4, 1, 2, 3)
    mirrored = random_horizontal_flip(batch, generator=torch.Generator().manual_seed(0))
    changed = [not torch.equal(mirrored[i], batch[i]) for i in range(4)]
    for i in range(4):
        assert torch.equal(mirrored[i], batch[i].flip(-1) if changed[i] else batch[i])
    assert 0 < sum(changed) < 4  # with this seed some flip and some do not
    assert torch.equal(random_horizontal_flip(batch, probability=1.0), batch.flip(-1))


def test_load_face_tensors_matches_the_dataset_and_caches(tiny_faces, tmp_path):
    faces = FaceFolder(tiny_faces)
    loaded = load_face_tensors(faces, cache_dir=tmp_path / "cache", progress=False)
    assert loaded.images.shape == (6, 3, 112, 96) and loaded.labels.tolist() == [0, 0, 0, 1, 1, 2]
    assert loaded.identities == ("Ann", "Bob", "Cy") and loaded.paths[3].name == "1.jpeg"
    assert torch.equal(loaded.images[4], faces[4][0])
    (cached,) = (tmp_path / "cache").glob("faces-*.pt")
    save_checked({"pixels": torch.zeros(6, 3, 112, 96, dtype=torch.uint8)}, cached)  # a mark
    again = load_face_tensors(faces, cache_dir=tmp_path / "cache", normalize=False, progress=False)
    assert again.images.dtype == torch.uint8 and torch.all(again.images == 0)
    flip_tensor_bytes(cached)
    with pytest.raises(DataFileError, match=r"cached faces .*faces-.*\.pt is damaged.*delete"):
        load_face_tensors(faces, cache_dir=tmp_path / "cache", progress=False)
    cached.write_bytes(b"half a file")
    with pytest.raises(DataFileError, match=r"cached faces .*faces-.*\.pt cannot be read.*delete"):
        load_face_tensors(faces, cache_dir=tmp_path / "cache", progress=False)
    grey = load_face_tensors(
        faces, FacePreprocess(grayscale=True), cache_dir=tmp_path / "cache", progress=False
    )
    assert grey.images.shape == (6, 1, 112, 96)  # other preprocessing, other cache entry


def test_the_real_att_faces_load(faces_root):
    faces = FaceFolder(att_faces_folder(faces_root), transform=FacePreprocess(grayscale=True))
    assert len(faces.identities) == 40 and len(faces) == 400
    assert faces.identities[:3] == ["s1", "s10", "s11"]  # sorted as strings
    assert torch.bincount(torch.tensor([label for _, label in faces.samples])).tolist() == [10] * 40
    face, _ = faces[0]
    assert face.shape == (1, 112, 96) and face.std() > 0.1
    loaded = load_face_tensors(
        FaceFolder(att_faces_folder(faces_root), exclude={"s1"}), progress=False
    )
    assert loaded.images.shape == (390, 3, 112, 96) and "s1" not in loaded.identities


def test_the_real_lfw_pairs_file(faces_root):
    pairs = read_lfw_pairs(lfw_folder(faces_root) / "pairs.txt")
    assert len(pairs) == 6000
    for fold in range(1, 11):
        in_fold = [pair for pair in pairs if pair.fold == fold]
        assert [pair.same for pair in in_fold] == [True] * 300 + [False] * 300
    first = pairs[0]
    assert first.path_a.relative_to(lfw_folder(faces_root)).as_posix() == (
        "Abel_Pacheco/Abel_Pacheco_0001.jpg"
    )
    assert first.path_b.name == "Abel_Pacheco_0004.jpg"
    assert pairs[300].path_a.parent.name != pairs[300].path_b.parent.name


def test_bundled_lfw_folds_one_and_two_are_complete(faces_root):
    pairs = read_lfw_pairs(lfw_folder(faces_root) / "pairs.txt", folds=(1, 2), check_images=True)
    assert len(pairs) == 1200 and {pair.fold for pair in pairs} == {1, 2}
    assert len(pair_identities(pairs)) == 844  # as the data README counts
    with pytest.raises(
        DataFileError, match=r"images named by pairs.txt are missing.*folds=\(1, 2\)"
    ):
        read_lfw_pairs(lfw_folder(faces_root) / "pairs.txt", folds=(3,), check_images=True)


def test_training_identities_can_exclude_every_pair_identity(faces_root):
    pairs = read_lfw_pairs(lfw_folder(faces_root) / "pairs.txt", folds=(1, 2))
    train = FaceFolder(lfw_folder(faces_root), min_images=10, exclude=pair_identities(pairs))
    assert len(train.identities) == 158 - 39  # the README's overlap
    assert not set(train.identities) & pair_identities(pairs)


def test_load_pair_images_indexes_distinct_images(faces_root):
    pairs = read_lfw_pairs(lfw_folder(faces_root) / "pairs.txt", folds=(1,))
    chosen = pairs[:3] + pairs[300:302]
    loaded = load_pair_images(chosen, FacePreprocess(crop=LFW_DEEPFUNNELED_CROP), progress=False)
    assert loaded.same.tolist() == [True, True, True, False, False]
    assert loaded.fold.tolist() == [1] * 5
    distinct = {path for pair in chosen for path in (pair.path_a, pair.path_b)}
    assert loaded.images.shape == (len(distinct), 3, 112, 96)
    direct = load_images(
        [chosen[3].path_b], FacePreprocess(crop=LFW_DEEPFUNNELED_CROP), progress=False
    )
    assert torch.equal(loaded.images[loaded.second[3]], direct[0])


PAIRS_HEADER = "2\t1\n"
GOOD_PAIRS = "Ann\t1\t2\nAnn\t1\tBob\t1\nBob\t1\t2\nAnn\t2\tCy\t1\n"


def test_a_small_pairs_file_resolves_image_paths(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text(PAIRS_HEADER + GOOD_PAIRS + "\n")
    pairs = read_lfw_pairs(path, image_folder=tmp_path / "images")
    assert [(p.path_a.name, p.path_b.name, p.same, p.fold) for p in pairs] == [
        ("Ann_0001.jpg", "Ann_0002.jpg", True, 1),
        ("Ann_0001.jpg", "Bob_0001.jpg", False, 1),
        ("Bob_0001.jpg", "Bob_0002.jpg", True, 2),
        ("Ann_0002.jpg", "Cy_0001.jpg", False, 2),
    ]
    assert pairs[1].path_b == tmp_path / "images" / "Bob" / "Bob_0001.jpg"
    assert pair_identities(pairs) == {"Ann", "Bob", "Cy"}
    assert [p.fold for p in read_lfw_pairs(path, folds=[2])] == [2, 2]
    with pytest.raises(ValueError, match="folds must lie in 1..2"):
        read_lfw_pairs(path, folds=[3])


@pytest.mark.parametrize(
    "line, text",
    [
        (3, "Ann\t1\tBob"),  # a different-person line missing its last number
        (4, "Bob\t1\t2\t3"),  # a same-person line with an extra field
        (2, "Ann\tone\t2"),
        (5, "Ann\t2\tCy\t0"),
    ],
)
def test_a_malformed_pairs_line_is_reported_with_its_number(tmp_path, line, text):
    lines = (PAIRS_HEADER + GOOD_PAIRS).splitlines()
    lines[line - 1] = text
    path = tmp_path / "pairs.txt"
    path.write_text("\n".join(lines))
    expected = rf"pairs.txt, line {line}: expected .* got {re.escape(repr(text))}"
    with pytest.raises(DataFileError, match=expected):
        read_lfw_pairs(path)


@pytest.mark.parametrize("header", ["300", "10 300 1", "ten\t300", "0\t300", ""])
def test_a_bad_pairs_header_is_reported(tmp_path, header):
    path = tmp_path / "pairs.txt"
    path.write_text(header + "\n" + GOOD_PAIRS)
    with pytest.raises(DataFileError, match=r"line 1: expected the View 2 header .*MD5"):
        read_lfw_pairs(path)


def test_a_truncated_or_missing_pairs_file_is_reported(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text(PAIRS_HEADER + GOOD_PAIRS.rsplit("\n", 2)[0])
    with pytest.raises(
        DataFileError, match=r"has 4 lines but .* \(5 lines\): the file is truncated"
    ):
        read_lfw_pairs(path)
    with pytest.raises(DataFileError, match="does not exist.*SPHEREFACE_DATA"):
        read_lfw_pairs(tmp_path / "missing.txt")


@pytest.mark.parametrize("requested", [None, ["Ann", "Bob", "Dee"]])
def test_an_empty_identity_folder_is_an_error_like_a_missing_one(tiny_faces, requested):
    (tiny_faces / "Dee").mkdir()
    (tiny_faces / "Dee" / "notes.txt").write_text("no image here")
    with pytest.raises(DataFileError, match=r"1 identity folders in .* hold no images .*\['Dee'\]"):
        FaceFolder(tiny_faces, identities=requested)
    assert FaceFolder(tiny_faces, exclude={"Dee"}).identities == ["Ann", "Bob", "Cy"]


def test_an_image_smaller_than_the_crop_names_its_path(tiny_faces, tmp_path):
    small = tiny_faces / "Bob" / "2.png"  # 20x24, the LFW crop box needs 185x186
    preprocess = FacePreprocess(crop=LFW_DEEPFUNNELED_CROP)
    expected = (
        r"image .*Bob/2\.png \(20x24\) does not fit the preprocessing \(crop box .*\); replace"
    )
    with pytest.raises(DataFileError, match=expected):
        load_images([small], preprocess, progress=False)
    with pytest.raises(DataFileError, match=expected):
        FaceFolder(tiny_faces, transform=preprocess)[4]
    with pytest.raises(DataFileError, match=expected):
        LazyFaceImages([small], preprocess)[0]


def write_grey(path, pixels):
    Image.fromarray(pixels).save(path)  # uint16 pixels: a 16-bit file


@pytest.mark.parametrize("suffix", [".png", ".pgm"])
def test_16_bit_images_are_scaled_not_clipped(suffix, tmp_path):
    eight = np.random.default_rng(0).integers(0, 256, (112, 96)).astype(np.uint8)
    sixteen = eight.astype(np.uint16) * 257  # the same brightness in 16 bits
    write_grey(tmp_path / f"face{suffix}", sixteen)
    write_grey(tmp_path / "face8.png", eight)
    assert Image.open(tmp_path / f"face{suffix}").mode in ("I;16", "I")
    decoded = read_image(tmp_path / f"face{suffix}")
    assert decoded.mode == "L" and np.array_equal(np.asarray(decoded), eight)
    preprocess = FacePreprocess()
    faces = load_images([tmp_path / f"face{suffix}", tmp_path / "face8.png"], preprocess)
    assert faces.shape == (2, 3, *FACE_SIZE) and torch.equal(faces[0], faces[1])


def test_a_16_bit_pgm_with_a_small_maximum_is_scaled_to_its_maximum(tmp_path):
    path = tmp_path / "face.pgm"
    values = np.array([[0, 2048, 4095]], dtype=">u2")  # a 12-bit image
    path.write_bytes(b"P5\n3 1\n4095\n" + values.tobytes())
    assert np.asarray(read_image(path)).tolist() == [[0, 128, 255]]


def test_an_unreadable_image_is_a_one_line_error(tiny_faces, monkeypatch):
    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Image, "open", refuse)  # as root, chmod 000 would not stop a read
    with pytest.raises(DataFileError, match=r"Bob/2\.png cannot be read \(Permission denied\)"):
        read_face(tiny_faces / "Bob" / "2.png", FacePreprocess())
