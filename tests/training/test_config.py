"""Training configurations: every setting is checked when the configuration is made."""

import dataclasses
import math

import pytest

from sphereface_lib.training.config import PRESETS, TrainConfig, preset

# (field, bad value, what the one-line error must say): the settings a user mistyped in
# issue 13, and the neighbouring ones.
BAD_SETTINGS = [
    ("grad_clip_norm", 0.0, r"grad_clip_norm must be a finite number > 0 or None, got 0\.0"),
    ("grad_clip_norm", -1.0, r"grad_clip_norm .*got -1\.0; .*--grad-clip-norm none"),
    ("lambda_gamma", -1.0, r"lambda_gamma must be a finite number >= 0, got -1\.0"),
    ("lambda_gamma", -0.3, r"lambda_gamma must be a finite number >= 0"),
    ("lambda_power", 0.0, r"lambda_power must be a finite number > 0"),
    ("lambda_power", -0.5, r"lambda_power must be a finite number > 0"),
    ("lambda_base", math.inf, r"lambda_base must be a finite number >= 0, got inf"),
    ("lambda_min", -5.0, r"lambda_min must be a finite number >= 0"),
    ("learning_rate", math.nan, r"learning_rate must be a finite number > 0, got nan"),
    ("learning_rate", math.inf, r"learning_rate must be a finite number > 0, got inf"),
    ("learning_rate", 0.0, r"learning_rate must be a finite number > 0"),
    ("learning_rate", "0.1", r"learning_rate must be a finite number > 0, got '0\.1'"),
    ("warmup_epochs", -1.0, r"warmup_epochs must be a finite number >= 0"),
    ("momentum", -1.0, r"momentum must be a finite number in \(0, 1\).*Nesterov"),
    ("momentum", 0.0, r"momentum must be a finite number in \(0, 1\)"),
    ("momentum", 1.0, r"momentum must be a finite number in \(0, 1\)"),
    ("weight_decay", -1e-4, r"weight_decay must be a finite number >= 0"),
    ("scale", 0.0, r"scale must be a finite number > 0"),
    ("additive_margin", math.nan, r"additive_margin must be a finite number > 0"),
    ("epochs", 0, r"epochs must be a positive integer, got 0"),
    ("batch_size", 2.5, r"batch_size must be a positive integer, got 2\.5"),
    ("max_steps", 0, r"max_steps must be a positive integer or None"),
    ("train_limit", -3, r"train_limit must be a positive integer or None"),
    ("seed", -1, r"seed must be an integer >= 0"),
    ("snapshot_points", True, r"snapshot_points must be an integer >= 0, got True"),
    ("lr_milestones", (16_000, 0), r"every entry of lr_milestones must be a positive integer"),
    ("augment", "no", r"augment must be True or False, got 'no'"),
    ("device", "gpu", r"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'"),
    ("device", "cuda:x", r"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_SETTINGS)
def test_a_bad_setting_is_a_one_line_error_naming_it(field, value, message):
    with pytest.raises(ValueError, match=message) as error:
        TrainConfig(**{field: value})
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("head", "margin"), [("cosface", 2.0), ("arcface", 1.6), ("arcface", math.pi / 2)]
)
def test_additive_margins_past_the_heads_limits_are_refused(head, margin):
    with pytest.raises(ValueError, match=f"additive_margin of the {head} head must lie in"):
        TrainConfig(head=head, additive_margin=margin)


NUMERIC_FIELDS = [
    field.name
    for field in dataclasses.fields(TrainConfig)
    if isinstance(field.default, int | float) and not isinstance(field.default, bool)
]


@pytest.mark.parametrize("field", NUMERIC_FIELDS)
def test_every_numeric_setting_refuses_a_negative_value(field):
    """No numeric setting of a run has a meaning below zero; each is caught up front."""
    with pytest.raises(ValueError, match=field):
        TrainConfig(**{field: -1})


@pytest.mark.parametrize(
    "field", [name for name in NUMERIC_FIELDS if isinstance(getattr(TrainConfig(), name), float)]
)
def test_every_real_setting_refuses_nan(field):
    with pytest.raises(ValueError, match=f"{field} must be a finite number"):
        TrainConfig(**{field: math.nan})


@pytest.mark.parametrize("profile", sorted(PRESETS))
def test_every_preset_is_valid(profile):
    assert isinstance(preset(profile), TrainConfig)


def test_edge_values_that_mean_something_are_accepted():
    config = TrainConfig(
        grad_clip_norm=None, warmup_epochs=0.0, lambda_gamma=0.0, lambda_min=0, weight_decay=0
    )
    assert config.grad_clip_norm is None and config.lambda_min == 0


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
