"""The GIFs of the embeddings: one frame per snapshot, the epoch shown, a full turn in 3-D."""

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from matplotlib.text import Text
from mpl_toolkits.mplot3d import proj3d
from PIL import Image

from sphereface_lib.book.animation import (
    embedding_animation,
    embedding_figure,
    embedding_frames,
    embedding_grid,
    encode_gif,
    epoch_label,
    frame_durations,
    legend_columns,
)
from sphereface_lib.book.plots import SpherePanel
from sphereface_lib.training import Snapshots

PEOPLE = ["Ariel Sharon", "Colin Powell", "Donald Rumsfeld", "George W Bush", "Tony Blair", "X"]


def toy_snapshots(dimension, classes=10, count=5, epochs=2.0):
    generator = torch.Generator().manual_seed(dimension * 100 + classes)
    return Snapshots(
        steps=torch.arange(count) * 7,
        epochs=torch.linspace(0, epochs, count, dtype=torch.float64),
        features=torch.randn(count, 40, dimension, generator=generator),
        weights=torch.randn(count, classes, dimension, generator=generator),
        labels=torch.arange(40) % classes,
    )


def decoded(data):
    gif = Image.open(io.BytesIO(data))
    durations = []
    for index in range(gif.n_frames):
        gif.seek(index)
        durations.append(gif.info["duration"])
    return gif, durations


@pytest.mark.parametrize("dimension", [2, 3])
def test_the_gif_has_one_frame_per_snapshot_at_the_figure_size(dimension):
    snapshots = toy_snapshots(dimension, count=6)
    data = embedding_animation(snapshots, "A-Softmax", width_px=300)
    gif, durations = decoded(data)
    expected = embedding_frames(snapshots, "A-Softmax", width_px=300).figure.canvas
    assert gif.size == expected.get_width_height() and gif.size[0] == 300
    assert gif.n_frames == 6
    assert durations == [180] * 5 + [1500]  # the last frame held to be read
    assert gif.info["loop"] == 0


def test_the_gif_is_also_written_to_a_path(tmp_path):
    path = tmp_path / "figures" / "run.gif"
    data = embedding_animation(toy_snapshots(2, count=3), "run", path=path)
    assert path.read_bytes() == data


def test_each_frame_says_its_epoch():
    frames = embedding_frames(toy_snapshots(2, count=5, epochs=7.0), "run")
    frames.draw(2)
    assert frames.label.get_text() == "epoch 3.5 of 7"
    # 49 frames over 2 epochs are closer than 0.1 epochs: two decimals keep them apart.
    frames = embedding_frames(toy_snapshots(3, count=49), "run")
    frames.draw(24)
    assert frames.label.get_text() == "epoch 1.00 of 2"
    frames.draw(1, label="test accuracy 99.0 %")
    assert frames.label.get_text() == "test accuracy 99.0 %"


def test_epoch_labels():
    assert epoch_label(2.4, 7.0) == "epoch 2.4 of 7"
    assert epoch_label(1.25, 3.4) == "epoch 1.2 of 3.4"


def test_the_3d_view_turns_a_full_circle():
    count = 8
    frames = embedding_frames(toy_snapshots(3, count=count), "run", start_azimuth=-60.0)
    azimuths = []
    for index in range(count):
        frames.draw(index)
        azimuths.append(frames.panel.ax.azim)
    steps = np.diff(azimuths)
    np.testing.assert_allclose(steps, 360 / count)
    # The loop back to the first frame is one more step: a whole turn.
    np.testing.assert_allclose(azimuths[-1] - azimuths[0] + 360 / count, 360.0)


def test_points_facing_the_viewer_are_drawn_in_full():
    """The near/far split agrees with matplotlib's own depth of the projected points."""
    frames = embedding_frames(toy_snapshots(3, count=2), "run")
    panel = frames.panel
    assert isinstance(panel, SpherePanel)
    frames.draw(1)
    frames.pixels()
    points = toy_snapshots(3, count=2).features[1].double()
    points = (points / points.norm(dim=1, keepdim=True)).numpy()
    # matplotlib's depth grows away from the viewer; the sphere's centre splits near from far.
    depth = proj3d.proj_transform(*points.T, panel.ax.get_proj())[2]
    centre = proj3d.proj_transform(0.0, 0.0, 0.0, panel.ax.get_proj())[2]
    near = {tuple(np.round(p, 6)) for c in panel.near for p in np.transpose(c._offsets3d)}
    far = {tuple(np.round(p, 6)) for c in panel.far for p in np.transpose(c._offsets3d)}
    assert len(near) + len(far) == len(points) and near and far
    expected_near = {
        tuple(np.round(p, 6)) for p, z in zip(points, depth, strict=True) if z < centre
    }
    assert near == expected_near


@pytest.mark.parametrize("dimension", [2, 3])
def test_six_named_classes_with_a_legend_title(dimension):
    snapshots = toy_snapshots(dimension, classes=6, count=3)
    frames = embedding_frames(snapshots, "faces", class_names=PEOPLE, legend_title="person")
    (legend,) = frames.figure.legends
    assert sorted(text.get_text() for text in legend.get_texts()) == sorted(PEOPLE)
    assert legend.get_title().get_text() == "person"
    frames.draw(1)
    frames.pixels()
    box, figure_box = legend.get_window_extent(), frames.figure.bbox
    assert figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1  # the legend fits the width
    gif, _ = decoded(embedding_animation(snapshots, "faces", class_names=PEOPLE))
    assert gif.n_frames == 3


def test_without_names_the_classes_are_numbered_from_the_weights():
    frames = embedding_frames(toy_snapshots(2, classes=6, count=2), "run", legend_title=None)
    (legend,) = frames.figure.legends
    assert [text.get_text() for text in legend.get_texts()] == ["0", "1", "2", "3", "4", "5"]
    assert legend.get_title().get_text() == ""


def test_the_legend_reads_row_by_row():
    frames = embedding_frames(toy_snapshots(2, classes=13, count=2), "run")
    frames.draw(1)
    frames.pixels()
    (legend,) = frames.figure.legends
    positions = {
        text.get_text(): text.get_window_extent().get_points()[0] for text in legend.get_texts()
    }
    rows = sorted({round(y) for _, y in positions.values()}, reverse=True)
    by_row = [
        [
            name
            for name, (x, y) in sorted(positions.items(), key=lambda item: item[1][0])
            if round(y) == row
        ]
        for row in rows
    ]
    assert by_row == [[str(k) for k in range(7)], [str(k) for k in range(7, 13)]]


def test_too_few_class_names_is_an_error():
    with pytest.raises(ValueError, match="labels go up to 9 but only 3 class names"):
        embedding_frames(toy_snapshots(2, count=2), "run", class_names=["a", "b", "c"])


def test_legend_columns_fit_the_width():
    assert legend_columns([str(digit) for digit in range(10)]) == 5  # two rows of five
    assert legend_columns(["a", "b", "c", "d", "e", "f"]) == 6
    assert legend_columns(PEOPLE) < 6


@pytest.mark.parametrize(("dimension", "names"), [(2, None), (3, None), (3, PEOPLE)])
def test_no_text_is_smaller_than_9px_at_310px(dimension, names):
    """Shown 310 px wide (three side by side on a 1280-px screen), every text is >= 9 px."""
    snapshots = toy_snapshots(dimension, classes=10 if names is None else 6, count=2)
    frames = embedding_frames(snapshots, "title", class_names=names, legend_title="digit")
    frames.draw(1)
    frames.pixels()
    width_inches = frames.figure.get_size_inches()[0]
    texts = [
        text
        for text in frames.figure.findobj(Text)
        if text.get_visible() and text.get_text() and text.get_window_extent().width > 0
    ]
    assert len(texts) >= 9  # title, epoch, legend title and entries (and 2-D ticks)
    smallest = min(text.get_fontsize() for text in texts) / 72 * 310 / width_inches
    assert smallest >= 9.0


def test_the_static_figure_shows_the_last_state_with_a_label():
    figure = embedding_figure(toy_snapshots(3, count=4), "A-Softmax", label="accuracy 0.99")
    assert "accuracy 0.99" in [text.get_text() for text in figure.texts]
    assert "A-Softmax" in [text.get_text() for text in figure.texts]
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_the_gif_keeps_the_class_colours():
    colours = [(230, 159, 0), (86, 180, 233), (0, 158, 115), (255, 255, 255)]
    frames = [np.full((8, 12, 3), colour, dtype=np.uint8) for colour in colours]
    gif, durations = decoded(encode_gif(frames, [100, 100, 100, 300]))
    assert durations == [100, 100, 100, 300]
    for index, colour in enumerate(colours):
        gif.seek(index)
        assert gif.convert("RGB").getpixel((5, 4)) == colour


def test_frame_durations_are_whole_hundredths():
    assert frame_durations(4, 0.18, 1.5) == [180, 180, 180, 1500]
    assert frame_durations(2, 0.001, 0.123) == [20, 120]  # browsers slow delays under 20 ms


def test_a_still_embedding_draws_given_features_with_named_classes():
    import matplotlib.pyplot as plt

    from sphereface_lib.book.animation import embedding_still

    generator = torch.Generator().manual_seed(0)
    features = torch.randn(30, 3, generator=generator)
    labels = torch.arange(30) % 6
    weights = torch.randn(6, 3, generator=generator)
    names = [f"person {k}" for k in range(6)]
    figure = embedding_still(
        features, labels, weights, "six people", names, "person", label="30 images"
    )
    texts = {text.get_text() for text in figure.findobj(plt.Text)}
    assert {"six people", "30 images", "person", *names} <= texts
    plt.close(figure)


@pytest.mark.parametrize(
    ("count", "columns", "grid"), [(5, 3, (2, 3)), (2, 3, (1, 2)), (4, 2, (2, 2))]
)
def test_the_grid_holds_the_last_frame_of_each_run_in_rows(count, columns, grid):
    runs = [toy_snapshots(2, count=3) for _ in range(count)]
    data = embedding_grid(runs, [f"run {i}" for i in range(count)], columns=columns, gap_px=10)
    image = Image.open(io.BytesIO(data))
    tile = embedding_frames(runs[0], "run 0", width_px=400).figure.canvas.get_width_height()
    rows, across = grid
    assert image.format == "PNG"
    assert image.size == (across * tile[0] + (across - 1) * 10, rows * tile[1] + (rows - 1) * 10)


def test_a_grid_tile_is_the_runs_trained_state_with_its_label():
    run = toy_snapshots(2, count=3)
    frames = embedding_frames(run, "A-Softmax", legend_title="digit")
    frames.draw(2, "test accuracy 99.00 %")
    expected = frames.pixels()
    data = embedding_grid([run], ["A-Softmax"], ["test accuracy 99.00 %"], legend_title="digit")
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), expected)
    frames.draw(0, "test accuracy 99.00 %")  # the first state differs: the test can fail
    assert not np.array_equal(frames.pixels(), expected)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"titles": []}, "one title per run"),
        ({"labels": ["a", "b"]}, "one label per run"),
        ({"columns": 0}, "columns must be"),
    ],
)
def test_bad_grid_arguments_are_value_errors(arguments, message):
    options = {"snapshots": [toy_snapshots(2)], "titles": ["run"], **arguments}
    with pytest.raises(ValueError, match=message):
        embedding_grid(**options)


@pytest.mark.parametrize("dimension", [2, 3])
def test_classes_without_a_weight_are_drawn_without_a_ray(dimension):
    import matplotlib.pyplot as plt

    from sphereface_lib.book.animation import embedding_still

    generator = torch.Generator().manual_seed(1)
    features = torch.randn(40, dimension, generator=generator)
    labels = torch.arange(40) % 10  # ten classes, of which only six have a weight
    weights = torch.randn(6, dimension, generator=generator)
    names = [str(digit) for digit in range(10)]
    figure = embedding_still(features, labels, weights, "open set", names, "digit")
    assert {text.get_text() for text in figure.findobj(plt.Text)} >= set(names)
    plt.close(figure)
