"""Chapter 5's runs and analysis on synthetic runs: which configurations it trains (and shares
with chapter 2), how it names them, and what it measures from snapshots, norms and schedules."""

import math

import pytest
import torch

from sphereface_lib.analysis.angles import ClassAngles, margin_boundary_angle
from sphereface_lib.analysis.norms import rank_correlation
from sphereface_lib.book.beyond import (
    NO_ANNEALING,
    angle_cells,
    angle_columns,
    boundary_degrees,
    boundary_phrase,
    chapter_2_configs,
    comparison_keys,
    comparison_rows,
    convergence_phrase,
    criterion_sentence,
    distinct_configs,
    epochs_to_accuracy,
    floor_step,
    lambda_schedule,
    norm_analysis,
    run_groups,
    run_name,
    schedule_name,
    showcase_key,
    snapshot_curves,
    summarize_group,
    sweep_sentence,
)
from sphereface_lib.book.chapters import beyond_settings
from sphereface_lib.training import RunResult, Snapshots, lambda_at
from sphereface_lib.training.config import preset


def unit(degrees, length=1.0):
    return [length * math.cos(math.radians(degrees)), length * math.sin(math.radians(degrees))]


# --- settings and groups ------------------------------------------------------------------


def test_settings_take_the_profile_defaults_where_none_is_given():
    smoke = beyond_settings("smoke")
    assert (smoke.seeds, smoke.new_seeds, smoke.margins) == ((0,), (0,), (1, 4))
    full = beyond_settings("full", high_dim=16)
    assert (full.seeds, full.new_seeds, full.margins) == ((0, 1), (0,), (1, 2, 3, 4, 5))
    assert full.dimensions == (2, 16)
    given = beyond_settings("smoke", seeds=[3, 4], margins=[2], sized_margins={"arcface": 0.1})
    assert (given.seeds, given.new_seeds, given.margins) == ((3, 4), (3,), (2,))
    assert given.sized_margins == (("arcface", 0.1),)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"profile": "huge"}, "unknown profile"),
        ({"profile": "smoke", "margin": 4}, "unknown settings"),
        ({"profile": "smoke", "seeds": []}, "at least one seed"),
        ({"profile": "smoke", "sized_margins": {"angular": 4}}, "sized_margins are for"),
    ],
)
def test_bad_settings_are_value_errors(arguments, message):
    with pytest.raises(ValueError, match=message):
        beyond_settings(**arguments)


def test_the_smoke_groups_and_their_order():
    groups = run_groups(beyond_settings("smoke"))
    assert list(groups) == [
        ("sweep", 2, 1),
        ("sweep", 2, 4),
        ("heads", 2, "original"),
        ("heads", 2, "modified"),
        ("heads", 2, "angular"),
        ("sweep", 32, 1),
        ("sweep", 32, 4),
        ("heads", 32, "original"),
        ("heads", 32, "modified"),
        ("heads", 32, "angular"),
        ("heads", 32, "cosface"),
        ("heads", 32, "arcface"),
        ("sized", 2, "cosface"),
        ("sized", 2, "arcface"),
        ("annealing", 2, "official annealing"),
        ("annealing", 2, "λ = 0"),
        ("annealing", 2, "fixed λ = 5"),
        ("annealing", 2, "official annealing, floor 0"),
    ]
    # Shared runs (the sweep's m = 1 and 4 are heads too) are trained once; the official
    # schedule and lambda = 0 take chapter 2's seeds (0 and 1 in smoke), the official one's
    # being chapter 2's own A-Softmax runs.
    assert len(distinct_configs(groups)) == 15
    for name in ("official annealing", "λ = 0"):
        assert [c.seed for c in groups["annealing", 2, name]] == [0, 1]
    assert [c.seed for c in groups["annealing", 2, "fixed λ = 5"]] == [0]


def test_the_2d_runs_of_chapter_2_are_reused_with_all_their_seeds():
    settings = beyond_settings("full", device="cpu")
    groups = run_groups(settings)
    shared = chapter_2_configs("full", device="cpu")
    for key in [("sweep", 2, 1), ("sweep", 2, 4), ("heads", 2, "original")]:
        assert set(groups[key]) <= shared, key
    assert [c.seed for c in groups["sweep", 2, 4]] == [0, 1]
    assert [c.seed for c in groups["sweep", 2, 3]] == [0]  # new_seeds: not in chapter 2
    assert not set(groups["sweep", 2, 3]) & shared


def test_margins_annealing_and_epochs_of_each_group():
    settings = beyond_settings("full", high_dim_epochs=2, scale=8.0)
    groups = run_groups(settings)
    (modified,) = {c.head for c in groups["sweep", 2, 1]}
    assert modified == "modified"
    official = groups["sweep", 2, 5][0]
    assert (official.head, official.margin, official.lambda_base) == ("angular", 5, 1000.0)
    high = groups["sweep", 32, 3][0]
    assert (high.epochs, high.lambda_base, high.lambda_min) == (2, 0.0, 0.0)
    assert groups["heads", 32, "angular"][0].margin == 4
    cosface = groups["heads", 32, "cosface"][0]
    assert (cosface.additive_margin, cosface.scale, cosface.lambda_base) == (0.35, 8.0, 0.0)
    sized = groups["sized", 2, "arcface"][0]
    assert (sized.additive_margin, sized.embedding_dim, sized.lambda_min) == (0.2, 2, 0.0)
    assert ("heads", 2, "cosface") not in groups
    fixed = groups["annealing", 2, "fixed λ = 5"][0]
    assert (fixed.lambda_base, fixed.lambda_gamma, fixed.lambda_min) == (5.0, 0.0, 5.0)


def test_options_change_the_groups():
    settings = beyond_settings("smoke", high_dim_annealing=True, paper_margins_in_2d=True)
    groups = run_groups(settings)
    assert groups["sweep", 32, 4][0].lambda_base == 1000.0
    assert groups["heads", 2, "arcface"][0].additive_margin == 0.5
    floors = run_groups(beyond_settings("smoke", lambda_floors=[1.0, 2.0]))
    assert ("annealing", 2, "official annealing, floor 2") in floors
    assert ("annealing", 2, "official annealing, floor 0") not in floors


def test_schedule_and_run_names():
    angular = preset("smoke", head="angular", margin=4)
    assert schedule_name(angular) == "official annealing"
    assert schedule_name(angular.replace(**NO_ANNEALING)) == "λ = 0"
    assert schedule_name(angular.replace(lambda_gamma=0.0, lambda_base=3.0)) == "fixed λ = 5"
    assert schedule_name(angular.replace(lambda_base=2.0)) == "fixed λ = 5"
    assert schedule_name(angular.replace(lambda_min=0.5)) == "official annealing, floor 0.5"
    assert schedule_name(angular.replace(lambda_base=100.0)) == "annealing from λ = 100"
    assert schedule_name(preset("smoke", head="modified")) == "no margin"
    assert run_name(angular) == "A-Softmax (m=4), official annealing"
    assert run_name(angular.replace(margin=2, **NO_ANNEALING)) == "A-Softmax (m=2), λ = 0"
    cosface = preset("smoke", head="cosface", additive_margin=0.06)
    assert run_name(cosface.replace(**NO_ANNEALING)) == "CosFace (m=0.06)"
    assert run_name(cosface) == "CosFace (m=0.06), official annealing"
    assert run_name(preset("smoke", head="original")) == "original softmax"


def test_comparison_rows_and_the_run_shown_per_head():
    groups = run_groups(beyond_settings("smoke"))
    assert comparison_keys(groups, 2) == [
        ("heads", 2, "original"),
        ("heads", 2, "modified"),
        ("heads", 2, "angular"),
        ("annealing", 2, "λ = 0"),
        ("sized", 2, "cosface"),
        ("sized", 2, "arcface"),
    ]
    assert [key[2] for key in comparison_keys(groups, 32)] == [
        "original",
        "modified",
        "angular",
        "cosface",
        "arcface",
    ]
    assert showcase_key(groups, 2, "cosface") == ("sized", 2, "cosface")
    assert showcase_key(groups, 2, "angular") == ("heads", 2, "angular")
    assert showcase_key(groups, 32, "cosface") == ("heads", 32, "cosface")
    assert showcase_key(groups, 3, "cosface") is None


# --- summaries of groups ------------------------------------------------------------------


def angles(intra_degrees, between_degrees, to_other_degrees=10.0):
    """ClassAngles of C classes with the given per-class angles (degrees)."""

    def radians(values):
        return torch.tensor([math.radians(v) for v in values], dtype=torch.float64)

    count = len(intra_degrees)
    return ClassAngles(
        intra=radians(intra_degrees),
        to_other_weight=radians([to_other_degrees] * count),
        between_weights=radians(between_degrees),
        counts=torch.ones(count, dtype=torch.long),
        quantile=0.99,
    )


def finished(accuracy, seed=0, lam=5.0, **config):
    run_config = preset("smoke", seed=seed, **config)
    metrics = [{"epoch": 2.0, "step": 32.0, "test_accuracy": accuracy, "lambda": lam}]
    return RunResult(run_config, metrics, complete=True, record={"train_seconds": 1.0})


def test_a_group_summary_averages_its_seeds():
    runs = [finished(0.90, seed=0), finished(0.94, seed=1)]
    strict = [angles([50, 70], [36, 36]), angles([60, 80], [36, 36])]
    robust = [angles([5, 10], [36, 40]), angles([7, 12], [36, 40])]
    summary = summarize_group(runs, strict, robust)
    assert summary.accuracy.mean == pytest.approx(0.92) and summary.accuracy.count == 2
    assert summary.strict.intra == pytest.approx(65.0)
    assert summary.robust.intra == pytest.approx(8.5)
    assert summary.robust.between_weights == pytest.approx(38.0)
    assert summary.robust.separated == 1.5  # classes with intra <= between / 4, per seed
    assert (summary.epochs, summary.final_lambda) == (2, 5.0)
    with pytest.raises(ValueError, match="one strict and one robust"):
        summarize_group(runs, strict[:1], robust)


def test_boundary_degrees_at_the_final_lambda():
    summary = summarize_group([finished(0.9, lam=5.0)], [angles([9], [36])], [angles([9], [36])])
    expected = math.degrees(margin_boundary_angle(math.radians(36), 4, 5.0))
    assert boundary_degrees(summary, 4) == pytest.approx(expected)
    assert boundary_degrees(summary, 1) == pytest.approx(18.0)  # no margin: the bisector


def test_angle_cells_and_comparison_rows():
    groups = {("heads", 2, "angular"): (preset("smoke", head="angular", margin=4),)}
    summary = summarize_group([finished(0.9912)], [angles([9], [36])], [angles([8], [36])])
    assert angle_cells(summary.robust) == pytest.approx([8.0, 10.0, 36.0, 1.0])
    assert comparison_rows(list(groups), groups, {key: summary for key in groups}) == [
        ["A-Softmax (m=4), official annealing", "99.12", *angle_cells(summary.robust)]
    ]
    assert angle_columns(0.99)[:2] == ["intra, 99\u00a0% (°)", "to other W, 1\u00a0% (°)"]
    assert angle_columns(0.9)[1] == "to other W, 10\u00a0% (°)"


# --- snapshots, norms and schedules -------------------------------------------------------


def test_snapshot_curves_against_hand_placed_features():
    # Two classes with weights at 0 and 90 degrees; three snapshots of four features.
    weights = torch.tensor([unit(0), unit(90)], dtype=torch.float64).expand(3, 2, 2)
    labels = torch.tensor([0, 0, 1, 1])
    placed = [
        [unit(80, 1), unit(10, 1), unit(5, 1), unit(85, 1)],  # two of four on the right side
        [unit(20, 2), unit(-10, 2), unit(70, 2), unit(60, 2)],  # all right
        [unit(0, 4), unit(4, 4), unit(88, 4), unit(90, 4)],  # all right, tighter
    ]
    snapshots = Snapshots(
        steps=torch.tensor([0, 4, 8]),
        epochs=torch.tensor([0.0, 0.5, 1.0]),
        features=torch.tensor(placed, dtype=torch.float64),
        weights=weights,
        labels=labels,
    )
    curves = snapshot_curves(snapshots, quantile=1.0)
    assert curves.accuracy.tolist() == [0.5, 1.0, 1.0]
    # Strict intra per class, mean over the two classes: (80 + 85) / 2, (20 + 30) / 2, (4 + 2) / 2.
    assert curves.intra.tolist() == pytest.approx([82.5, 25.0, 3.0])
    assert curves.median_norm.tolist() == pytest.approx([1.0, 2.0, 4.0])
    assert epochs_to_accuracy(curves, 0.9) == 0.5
    assert epochs_to_accuracy(curves, 0.5) == 0.0
    assert epochs_to_accuracy(curves, 1.01) is None


def test_norm_analysis_of_a_known_test_set():
    features = torch.tensor([[3.0, 0.0], [0.0, 1.0], [2.0, 0.0], [0.0, 4.0], [0.5, 0.0]])
    labels = torch.tensor([0, 1, 1, 1, 1])
    logits = features.clone()  # class 0 along x, class 1 along y
    analysis = norm_analysis(features, labels, logits, num_bins=5)
    assert analysis.correct.tolist() == [True, True, False, True, False]
    assert analysis.errors == 2
    assert analysis.median_correct == 3.0  # norms 3, 1 and 4
    assert analysis.median_wrong == 0.5  # torch's lower median of 2 and 0.5
    assert analysis.bins.error_rate.tolist() == [1.0, 0.0, 1.0, 0.0, 0.0]  # ordered by norm
    confidence = logits.double().softmax(dim=1).max(dim=1).values
    assert analysis.correlation == pytest.approx(rank_correlation(analysis.norms, confidence))
    assert analysis.relative_log_norms().tolist() == pytest.approx(
        [math.log2(n / 2.0) for n in (3.0, 1.0, 2.0, 4.0, 0.5)]
    )
    everything_right = norm_analysis(features[:2], labels[:2], logits[:2], num_bins=2)
    assert everything_right.median_wrong is None and everything_right.errors == 0
    with pytest.raises(ValueError, match="one label and one row of logits"):
        norm_analysis(features, labels[:3], logits)


@pytest.mark.parametrize(
    "changes",
    [{}, {"lambda_min": 50.0}, {"lambda_gamma": 1.0, "lambda_power": 2.0}, {"lambda_base": 4.0}],
)
def test_floor_step_is_the_first_update_at_the_floor(changes):
    config = preset("smoke", head="angular").replace(**changes)
    expected = next(t for t in range(10**5) if lambda_at(config, t) <= config.lambda_min)
    assert floor_step(config) == expected


def test_a_schedule_without_a_floor_never_reaches_it():
    config = preset("smoke", head="angular", lambda_min=0.0)
    assert floor_step(config) is None
    assert floor_step(config.replace(**NO_ANNEALING)) == 0


def test_lambda_schedule_reads_lambda_at():
    config = preset("smoke", head="angular")
    schedule = lambda_schedule(config, total_steps=32, steps_per_epoch=16)
    assert schedule.first == lambda_at(config, 0)
    assert schedule.end_of_first_epoch == lambda_at(config, 15)
    assert schedule.last == lambda_at(config, 31)
    assert schedule.first > schedule.end_of_first_epoch > schedule.last
    assert schedule.floor_step == floor_step(config)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        lambda_schedule(config, total_steps=8, steps_per_epoch=16)


# --- sentences ----------------------------------------------------------------------------


def test_the_criterion_sentence_reads_well_for_every_outcome():
    assert criterion_sentence({1: 0, 4: 0}, 10) == (
        "No class meets the quarter-angle criterion, for any of the 2 margins."
    )
    assert criterion_sentence({4: 0}, 10) == "No class meets the quarter-angle criterion."
    assert criterion_sentence({1: 3, 4: 3}, 10) == (
        "3 of the 10 classes meet the quarter-angle criterion for every margin."
    )
    assert criterion_sentence({4: 10}, 10) == (
        "10 of the 10 classes meet the quarter-angle criterion for m = 4."
    )
    assert criterion_sentence({1: 0, 2: 2.5, 4: 7, 5: 7}, 10) == (
        "The classes meeting the quarter-angle criterion range from 0 of 10 (m = 1) to 7 (m = 4)."
    )
    with pytest.raises(ValueError):
        criterion_sentence({}, 10)


def test_convergence_phrases():
    assert convergence_phrase(None, 0.9) == "does not reach 90 %"
    assert convergence_phrase(1.0, 0.95) == "reaches 95 % after 1.00 epoch"
    assert convergence_phrase(0.25, 0.9) == "reaches 90 % after 0.25 epochs"


def test_the_sweep_sentence_follows_the_results():
    def summary(accuracies, intra, lam=0.0, margin=4):
        runs = [finished(a, seed=s, lam=lam, margin=margin) for s, a in enumerate(accuracies)]
        return summarize_group(
            runs, [angles(intra, [36, 36])] * len(runs), [angles(intra, [36, 36])] * len(runs)
        )

    sweep = {1: summary([0.95, 0.97], [20, 20]), 4: summary([0.99], [5, 12], margin=4)}
    text = sweep_sentence(2, sweep, 2)
    assert text.startswith("**2-D** (2 epochs): test accuracy from 96.00 % (m = 1) to 99.00 %")
    assert "seed-to-seed standard deviation 1.41 points (m = 1)" in text
    assert "Robust intra-class angle 20.0° for m = 1 and 8.5° for m = 4" in text
    assert "range from 0 of 2 (m = 1) to 1 (m = 4)" in text
    # lambda = 0 and m = 4: the boundary at 36 / 5 = 7.2 degrees, within 36 / 4 = 9.
    assert text.endswith(
        "m = 4 puts its boundary 7.2° from its weight, within a quarter of the "
        "angle between neighbouring weights (9.0°)."
    )
    annealed = sweep_sentence(2, {4: summary([0.99], [5, 5], lam=5.0)}, 2)
    assert "test accuracy 99.00 % (m = 4)" in annealed and "outside a quarter" in annealed
    assert "seed-to-seed" not in annealed


def test_boundary_phrases():
    between = math.radians(36)
    assert boundary_phrase("arcface", 0.2, between) == "ArcFace (m=0.2) puts the boundary at 12.3°"
    assert boundary_phrase("cosface", 0.35, between) == (
        "CosFace (m=0.35) leaves no angle at which the target class wins"
    )
    with pytest.raises(ValueError, match="for cosface and arcface"):
        boundary_phrase("angular", 4, between)
