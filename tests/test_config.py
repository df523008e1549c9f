"""Configurations: snapshot frames per run, and records written before that field existed."""

import pytest

from sphereface_lib.config import TrainConfig, preset


def test_presets_record_enough_frames_for_the_animations():
    assert preset("full").snapshot_frames >= 40  # the book's animations: at least 40 frames
    assert preset("smoke").snapshot_frames <= 10  # cheap to render in CI


def test_old_records_count_frames_per_epoch():
    values = preset("full", epochs=7).to_dict()
    del values["snapshot_frames"]
    values["snapshots_per_epoch"] = 4
    assert TrainConfig.from_dict(values).snapshot_frames == 28


def test_snapshot_frames_must_be_positive():
    with pytest.raises(ValueError, match="snapshot_frames must be a positive integer"):
        preset("smoke", snapshot_frames=0)
