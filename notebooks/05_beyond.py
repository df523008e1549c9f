# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Beyond the reference: margins, annealing, CosFace and ArcFace
#
# The paper {cite}`liu2017sphereface` argues for a margin $m \ge 3$ from the geometry of the
# angles, trains with an annealed mix of softmax and A-Softmax that the paper itself barely
# mentions (it is in the official code {cite}`liu2017code`), and leaves the feature norm $\|x\|$
# free. Its successors CosFace {cite}`wang2018cosface` and ArcFace {cite}`deng2019arcface`
# normalise the features and put an additive margin on the cosine or on the angle. This chapter
# measures all of that on MNIST with the same network, the same training loop and the same test
# set:
#
# 1. **Margin sweep**: A-Softmax with $m$ = {glue:text}`margin_list` with 2-D and with
#    {glue:text}`high_dim`-D features, with the angle statistics behind the paper's argument.
# 2. **Annealing**: the official $\lambda$ schedule against $\lambda = 0$ from the start,
#    against a fixed $\lambda$ and against other floors.
# 3. **Five heads**: original softmax, modified softmax, A-Softmax, CosFace and ArcFace side by
#    side, with animations of the new 2-D embeddings.
# 4. **Feature norms**: how $\|x\|$ is distributed per head and how it relates to confidence
#    and to errors.
#
# This build trains or reads back {glue:text}`run_count` runs on {glue:text}`train_images`
# MNIST training images each and tests them on {glue:text}`test_images` test images. Runs that
# chapter 2 trains (original and modified softmax and A-Softmax with $m = 4$, in 2-D) are read
# back from the train-or-load cache rather than trained again; the last section lists the runs
# and the training seconds each part of the chapter recorded in this build.

# %% tags=["parameters", "hide-input"]
profile = "smoke"  # "smoke": 2,048 training images, 2 epochs a run; "full"
seed = 0  # seeds the notebook itself; the runs use `seeds`
seeds: list[int] | None = None  # None: [0] (smoke), [0, 1] (full)
new_seeds: list[int] | None = None  # None: the first of `seeds`
margins: list[int] | None = None  # None: 1 to 5 (full), [1, 4] (smoke)
high_dim = 32  # the second feature dimension
high_dim_epochs = 1
high_dim_annealing = False  # False: A-Softmax without annealing in high_dim
scale = 16.0  # s of CosFace and ArcFace
cosface_margin = 0.35  # CosFace: s (cos theta - m), the CosFace paper's m
arcface_margin = 0.5  # ArcFace: s cos(theta + m), the ArcFace paper's m
# 2-D margins, boundary near 12.5 degrees from the class weight
sized_margins = {"cosface": 0.06, "arcface": 0.2}
paper_margins_in_2d = False  # True: also the papers' margins in 2-D
anneal_margin = 4  # the A-Softmax margin of the annealing comparison
fixed_lambda = 5.0  # lambda held constant from the first step
lambda_floors = [0.0]  # floors of the official schedule besides its own 5
# robust angle statistics ignore the 1 % of features furthest from their class
quantile = 0.99
convergence_accuracy = 0.9  # "converged": the angle classifier's accuracy
device = "auto"
workers = 2  # runs trained in parallel processes (one CPU thread each)
data_root: str | None = None  # None: $SPHEREFACE_DATA
cache_dir: str | None = None  # None: $SPHEREFACE_CACHE
figures_dir = "figures"  # the GIFs are also written here

# %% tags=["hide-input"]
import math
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display
from matplotlib.ticker import PercentFormatter
from sphereface_lib.analysis.angles import class_angles, margin_boundary_angle
from sphereface_lib.book.animation import embedding_grid
from sphereface_lib.book.beyond import (
    ANGLE_FORMATS,
    FIVE_HEADS,
    SECTION_NAMES,
    angle_cells,
    angle_columns,
    boundary_degrees,
    boundary_phrase,
    chapter_2_configs,
    comparison_keys,
    comparison_rows,
    convergence_phrase,
    distinct_configs,
    epochs_to_accuracy,
    lambda_schedule,
    norm_analysis,
    run_groups,
    run_name,
    showcase_key,
    snapshot_curves,
    summarize_group,
    sweep_sentence,
)
from sphereface_lib.book.chapters import beyond_settings
from sphereface_lib.book.costs import cost_table, training_costs
from sphereface_lib.book.experiments import mean_and_spread, run_all
from sphereface_lib.book.pages import (
    COLUMN_INCHES,
    FULL_WIDTH_INCHES,
    glue_animation,
    glue_figure,
    glue_image,
    glue_markdown,
    glue_value,
    head_name,
    join_names,
    percent,
    run_label,
    use_book_style,
)
from sphereface_lib.book.plots import (
    HEAD_COLOURS,
    plot_class_angles,
    series_style,
)
from sphereface_lib.book.report import show_table
from sphereface_lib.common.seeding import seed_everything
from sphereface_lib.maths.margins import psi
from sphereface_lib.training import lambda_at
from sphereface_lib.training.config import TrainConfig

seed_everything(seed)
use_book_style()
settings = beyond_settings(
    profile,
    seeds=seeds,
    new_seeds=new_seeds,
    margins=margins,
    high_dim=high_dim,
    high_dim_epochs=high_dim_epochs,
    high_dim_annealing=high_dim_annealing,
    scale=scale,
    cosface_margin=cosface_margin,
    arcface_margin=arcface_margin,
    sized_margins=sized_margins,
    paper_margins_in_2d=paper_margins_in_2d,
    anneal_margin=anneal_margin,
    fixed_lambda=fixed_lambda,
    lambda_floors=lambda_floors,
    device=device,
)
dimensions = settings.dimensions
groups = run_groups(settings)
configs = distinct_configs(groups)
# Training goes through the library's train-or-load cache: a configuration
# trained before (in this build or an earlier one) is read back from disk.
results = run_all(configs, cache_dir, data_root, workers=workers)
run_of = dict(zip(configs, results, strict=True))
first_run = {key: run_of[group[0]] for key, group in groups.items()}
glue_value("margin_list", join_names([str(m) for m in settings.margins]))
glue_value("high_dim", settings.high_dim)
glue_value("run_count", len(configs))
glue_value("train_images", f"{configs[0].train_limit or 60_000:,}")
glue_value("test_images", f"{results[0].record['test_images']:,}")

# %% [markdown]
# Every statistic below is computed from the final features of the test images and the final
# class weights $W_j$ of each run. Angles are between a feature and the *direction* of a weight
# (for the original softmax the bias also takes part in the decision, so its angles describe
# the geometry, not the classifier).

# %% tags=["hide-input"]
heads = {config: run.load_model()[1] for config, run in run_of.items()}
strict, robust = {}, {}
for config, run in run_of.items():
    weights = heads[config].weight.detach()
    features, labels = run.test_features, run.test_labels
    strict[config] = class_angles(features, labels, weights)
    robust[config] = class_angles(features, labels, weights, quantile)
summary = {
    key: summarize_group(
        [run_of[c] for c in group],
        [strict[c] for c in group],
        [robust[c] for c in group],
    )
    for key, group in groups.items()
}
classes = len(next(iter(strict.values())).intra)
ANGLE_COLUMNS = angle_columns(quantile)

# %% [markdown]
# ## The margin sweep
#
# The paper's argument for $m \ge 3$ (its Section 3.4, "Properties of A-Softmax Loss") is about
# angles: A-Softmax should make the largest angle between two features of one class smaller than
# the smallest angle between features of two different classes. Two per-class quantities
# describe this, and both are measured here on the test set:
#
# - **intra**: the largest angle between a feature of class $y$ and its weight $W_y$;
# - **the gap between classes**: the smallest angle from $W_y$ to another weight (*between W*
#   in the tables), and the smallest angle from a feature of class $y$ to another class's
#   weight (*to other W*).
#
# Angles on the sphere obey the triangle inequality, so if every class stays within
# *intra* of its weight, two features of one class are at most $2\,\text{intra}$ apart and two
# features of classes $y, j$ at least $\angle(W_y, W_j) - 2\,\text{intra}$ apart. The criterion
# therefore holds as soon as $\text{intra} \le \angle(W_y, W_j)/4$ (the *quarter-angle
# criterion* below). In the plane of two neighbouring weights at angle $\theta_w$, margin $m$
# places the decision boundary where $m\theta_y = \theta_j$ with $\theta_y + \theta_j = \theta_w$,
# i.e. at $\theta_w / (m+1)$ from $W_y$: a quarter of $\theta_w$ exactly when $m = 3$. This is
# the lower bound $m \ge 3$ of the paper's Property 3, which assumes that the class weights are
# uniformly spaced. Ten classes evenly spread on a 2-D circle are $36°$ apart, so the ideal
# bound is $9°$.
#
# The strict maximum over all test features is dominated by the few misclassified digits
# (a feature on the wrong side of the circle is up to $180°$ from its weight), so the tables
# also give the robust version: the `quantile` ({glue:text}`quantile_percent`) of the angles to
# the own weight and the complementary quantile of the angles to the nearest other weight. All
# values are means over the {glue:text}`classes` classes (and over seeds where there are
# several). Row $m = 1$ is the modified softmax run itself, since $\psi(\theta) = \cos\theta$
# when $m = 1$.
#
# In 2-D, A-Softmax trains with the official $\lambda$ annealing of the next section (the runs
# of chapter 2 for $m = 4$), which ends at $\lambda = 5$: the margin term then weighs $1/6$ of
# the target logit, so the boundary sits much further out than $\theta_w/(m+1)$. The column
# *boundary* gives where: the angle from $W_y$ at which the trained target logit
# $(\lambda\cos\theta_y + \psi(\theta_y))/(1+\lambda)$ stops beating a rival at the measured
# mean angle $\theta_w$ between neighbouring weights, at the run's final $\lambda$ (for
# $\theta_w = 36°$ and $m = 4$: {glue:text}`boundary_lambda0`° at $\lambda = 0$,
# {glue:text}`boundary_floor`° at $\lambda = 5$, $18°$ without a margin). The
# higher-dimensional runs are short ({glue:text}`high_dim_epochs_text`), and after one epoch the
# official schedule would still be at $\lambda \approx$ {glue:text}`lambda_one_epoch`, so there
# A-Softmax trains without annealing ($\lambda = 0$, the pure margin of Eq. 7) unless
# `high_dim_annealing` is set.
#
# Seeds: in 2-D, $m = 1$ and $m = 4$ are chapter 2's runs and come with all of `seeds` at no
# cost; the other margins, as long as chapter 2's 2-D runs, use `new_seeds`. In
# {glue:text}`high_dim`-D every margin uses `seeds`.

# %% tags=["hide-input"]
official_floor = TrainConfig().lambda_min
glue_value("quantile_percent", f"{100 * quantile:g}\u00a0%")
glue_value("classes", classes)
for name, lam in (
    ("boundary_lambda0", 0.0),
    ("boundary_floor", official_floor),
):
    angle = margin_boundary_angle(math.radians(36), 4, lam)
    glue_value(name, f"{math.degrees(angle):.1f}")
high_sweep = first_run["sweep", settings.high_dim, settings.margins[-1]]
high_steps = int(high_sweep.metrics[0]["step"])  # the updates of one epoch
official_2d = first_run["annealing", 2, "official annealing"].config
glue_value("lambda_one_epoch", f"{lambda_at(official_2d, high_steps - 1):.1f}")
epochs = settings.high_dim_epochs
glue_value(
    "high_dim_epochs_text",
    f"{epochs} epoch{'' if epochs == 1 else 's'} in this build",
)

# %% [markdown]
# The test accuracy of each margin, the $\lambda$ its runs end with, and where that puts the
# boundary against the quarter-angle bound:

# %% tags=["hide-input"]
rows = []
for dimension in dimensions:
    for margin in settings.margins:
        group = summary["sweep", dimension, margin]
        rows.append(
            [
                f"{dimension}-D",
                margin,
                mean_and_spread(group.accuracy),
                group.accuracy.count,
                group.final_lambda,
                boundary_degrees(group, margin),
                group.robust.between_weights / 4,
            ]
        )
display(
    show_table(
        rows,
        [
            "features",
            "m",
            "test accuracy (%)",
            "seeds",
            "final λ",
            "boundary (°)",
            "¼ between W (°)",
        ],
        ["{}", "{}", "{}", "{}", "{:.2f}", "{:.1f}", "{:.1f}"],
    )
)

# %% [markdown]
# The angles themselves, strict (max) and robust, in degrees; the last column counts the
# classes (mean over seeds) whose robust intra angle is within a quarter of the angle to their
# nearest other weight:

# %% tags=["hide-input"]
rows = [
    [
        f"{dimension}-D",
        margin,
        summary["sweep", dimension, margin].strict.intra,
        *angle_cells(summary["sweep", dimension, margin].robust),
    ]
    for dimension in dimensions
    for margin in settings.margins
]
display(
    show_table(
        rows,
        ["features", "m", "intra, max (°)", *ANGLE_COLUMNS],
        ["{}", "{}", "{:.1f}", *ANGLE_FORMATS],
    )
)

# %% tags=["hide-input"]
figure, axes = plt.subplots(
    1, len(dimensions), figsize=(COLUMN_INCHES, 4.4), layout="constrained"
)
for ax, dimension in zip(axes, dimensions, strict=True):
    plot_class_angles(
        ax,
        [str(margin) for margin in settings.margins],
        [
            robust[groups["sweep", dimension, margin][0]]
            for margin in settings.margins
        ],
        title=f"{dimension}-D features",
        xlabel="margin m",
        legend=False,
    )
axes[1].set_ylabel("")
figure.legend(
    *axes[0].get_legend_handles_labels(),
    loc="outside lower center",
    ncols=1,
    frameon=False,
)
glue_figure("fig-beyond-sweep-angles", figure)

margin_runs = [first_run["sweep", 2, m] for m in settings.margins]
glue_image(
    "fig-beyond-sweep-final",
    embedding_grid(
        [run.snapshots for run in margin_runs],
        [run_label(run.config) for run in margin_runs],
        [
            f"test accuracy {percent(run.final_test_accuracy)} %"
            for run in margin_runs
        ],
        legend_title="digit",
    ),
    "png",
)

# %% [markdown]
# ```{glue:figure} fig-beyond-sweep-angles
# :name: fig-beyond-sweep-angles
# :alt: Two panels, 2-D and high-dimensional features, with the A-Softmax margin m on the horizontal axis and angles in degrees on the vertical axis. For each margin, small dots give each class's angle from its features to its own weight, to the nearest other weight, and a quarter of the angle to the nearest other weight; lines join the means over the classes.
#
# Robust class angles against the margin $m$, first seed. Where the blue dots (features to their
# own weight) lie below the green ones (a quarter of the angle to the nearest other weight), a
# class meets the quarter-angle criterion; orange: features to the nearest other weight.
# ```
#
# ````{container} full-width
# ```{glue:figure} fig-beyond-sweep-final
# :name: fig-beyond-sweep-final
# :alt: The trained 2-D features of one run per A-Softmax margin, side by side: each panel shows the test features of the ten digits, each digit with its own colour and marker, and the class-weight directions as rays from the origin, with the run's test accuracy under its title.
#
# The trained 2-D embeddings of the first seed, one per margin ($m = 1$ is the modified
# softmax); the rays are the directions of the class weights.
# ```
# ````
#
# **What this build measured** ({numref}`fig-beyond-sweep-angles` and
# {numref}`fig-beyond-sweep-final`). Means over the seeds of each margin; the angles are the
# robust ones of the tables.
#
# - {glue:md}`sweep_2`
# - {glue:md}`sweep_high`

# %% tags=["hide-input"]
for name, dimension in (("sweep_2", 2), ("sweep_high", settings.high_dim)):
    sweep = {m: summary["sweep", dimension, m] for m in settings.margins}
    glue_markdown(name, sweep_sentence(dimension, sweep, classes))

# %% [markdown]
# The paper's argument for $m \ge 3$ is about pure A-Softmax ($\lambda = 0$). With the official
# schedule, which ends at $\lambda = 5$ in 2-D, the margin term weighs only $1/6$ of the target
# logit and the boundary sits further out than $\theta_w/(m+1)$, so even a large $m$ need not
# meet the quarter-angle bound: the recipe that makes the 2-D training converge (next section)
# keeps the effective margin below the one the argument asks for. The short high-dimensional
# runs train with $\lambda = 0$; there a larger $m$ is a harder objective for the same number
# of updates.
#
# ## Annealing
#
# The official SphereFace code does not train A-Softmax directly. Its target logit is
# $(\lambda\|x\|\cos\theta_y + \|x\|\psi(\theta_y))/(1+\lambda)$ with
# $\lambda = \max(\lambda_{\min}, 1000\,(1 + 0.12\,t)^{-1})$ at iteration $t$: plain softmax at
# the start, then a slowly growing share of the margin, and never less than
# $\lambda_{\min} = 5$, so the margin term never weighs more than $1/6$. The variants here
# (A-Softmax, $m$ = `anneal_margin` = {glue:text}`anneal_margin`, 2-D, first seed) are:
#
# - **official annealing**: the schedule above (the run of chapter 2);
# - **$\lambda = 0$**: pure A-Softmax from the first update, as the paper's Eq. 7 is written;
# - **fixed $\lambda$**: the official floor from the first update, without the softmax start;
# - **other floors** of the same schedule. With power 1 the schedule decays slowly, so a low
#   floor is not reached within the run.
#
# {glue:text}`schedule_sentence` The table gives $\lambda$ at the first update, at the end of
# the first epoch and at the last update of each variant:

# %% tags=["hide-input"]
annealing = {
    key[2]: key for key in groups if key[0] == "annealing"
}  # variant name -> group key
official = first_run["annealing", 2, "official annealing"]
total_steps = int(official.metrics[-1]["step"])
steps_per_epoch = int(official.metrics[0]["step"])
schedules = {
    name: lambda_schedule(first_run[key].config, total_steps, steps_per_epoch)
    for name, key in annealing.items()
}
display(
    show_table(
        [
            [name, s.first, s.end_of_first_epoch, s.last]
            for name, s in schedules.items()
        ],
        ["variant", "λ, first update", "λ, end of epoch 1", "λ, last update"],
        ["{}", "{:.2f}", "{:.2f}", "{:.2f}"],
    )
)
floor = schedules["official annealing"].floor_step
reach = (
    "never reaches its floor"
    if floor is None
    else f"reaches its floor λ = {official_floor:g} on update {floor + 1:,} "
    f"(epoch {(floor + 1) / steps_per_epoch:.2f}"
    + (", after the runs end)" if floor + 1 > total_steps else ")")
)
glue_value(
    "schedule_sentence",
    f"The runs take {total_steps:,} updates ({steps_per_epoch:,} per "
    f"epoch); the official schedule {reach}.",
)
glue_value("anneal_margin", settings.anneal_margin)

# %% [markdown]
# "Converged" below is the first snapshot at which the angle classifier (each feature assigned
# to its nearest class weight) reaches `convergence_accuracy` ({glue:text}`target_percent` %)
# on the {glue:text}`snapshot_points` snapshot images; each run records
# {glue:text}`frame_count` snapshots after the initial state, evenly spaced over its updates.
# How the variants trained (–: never reached):

# %% tags=["hide-input"]
curves = {
    name: snapshot_curves(first_run[key].snapshots, quantile)
    for name, key in annealing.items()
}
reached = {
    name: epochs_to_accuracy(curves[name], convergence_accuracy)
    for name in annealing
}
rows = []
for name, key in annealing.items():
    metrics = first_run[key].metrics
    rows.append(
        [
            name,
            mean_and_spread(summary[key].accuracy),
            reached[name],
            metrics[0]["train_loss"],
            metrics[-1]["train_loss"],
        ]
    )
target = f"{100 * convergence_accuracy:g}\u00a0%"
display(
    show_table(
        rows,
        [
            "variant",
            "test accuracy (%)",
            f"epochs to {target}",
            "training loss, epoch\u00a01",
            "training loss, last epoch",
        ],
        ["{}", "{}", "{:.2f}", "{:.3f}", "{:.3f}"],
    )
)
glue_value("target_percent", f"{100 * convergence_accuracy:g}")
glue_value("snapshot_points", f"{official.config.snapshot_points:,}")
glue_value("frame_count", official.config.snapshot_frames)

# %% [markdown]
# And the geometry they ended with (test images; angles as in the margin sweep):

# %% tags=["hide-input"]
median_norm = {
    name: float(first_run[key].test_features.double().norm(dim=1).median())
    for name, key in annealing.items()
}
display(
    show_table(
        [
            [name, median_norm[name], *angle_cells(summary[key].robust)]
            for name, key in annealing.items()
        ],
        ["variant", "median ‖x‖", *ANGLE_COLUMNS],
        ["{}", "{:.3g}", *ANGLE_FORMATS],
    )
)

# %% tags=["hide-input"]
figure, axes = plt.subplots(
    2, 2, figsize=(COLUMN_INCHES, 6.4), layout="constrained"
)
for index, (name, key) in enumerate(annealing.items()):
    colour, line, marker = series_style(index)
    config = first_run[key].config
    steps = np.unique(np.linspace(0, total_steps - 1, 400).astype(int))
    lambdas = [lambda_at(config, int(step)) for step in steps]
    axes[0, 0].plot(steps + 1, lambdas, line, color=colour, label=name)
    series = (
        curves[name].accuracy,
        curves[name].intra,
        curves[name].median_norm,
    )
    for ax, values in zip(axes.flat[1:], series, strict=True):
        ax.plot(
            curves[name].epochs.numpy(),
            values.numpy(),
            line,
            marker=marker,
            markersize=4,
            color=colour,
        )
axes[0, 0].set(xlabel="update", ylabel="λ", yscale="symlog")
axes[0, 1].set(ylabel="angle-classifier accuracy")
axes[0, 1].yaxis.set_major_formatter(PercentFormatter(1.0))
axes[1, 0].set(ylabel=ANGLE_COLUMNS[0])
axes[1, 1].set(ylabel="median ‖x‖", yscale="log")
for ax in axes.flat:
    ax.grid(alpha=0.3)
for ax in axes.flat[1:]:
    ax.set_xlabel("epoch")
figure.legend(loc="outside lower center", ncols=2, frameon=False)
glue_figure("fig-beyond-annealing-curves", figure)

variant_runs = [first_run[key] for key in annealing.values()]
glue_image(
    "fig-beyond-annealing-final",
    embedding_grid(
        [run.snapshots for run in variant_runs],
        [f"A-Softmax, {name}" for name in annealing],
        [
            f"test accuracy {percent(run.final_test_accuracy)} %"
            for run in variant_runs
        ],
        columns=2,
        legend_title="digit",
    ),
    "png",
)
zero = first_run["annealing", 2, "λ = 0"]
glue_animation(
    "anim-lambda0",
    zero.snapshots,
    f"{run_label(zero.config)}, λ = 0, 2-D",
    path=Path(figures_dir) / "beyond_annealing_lambda0.gif",
)

# %% [markdown]
# ```{glue:figure} fig-beyond-annealing-curves
# :name: fig-beyond-annealing-curves
# :alt: Four line plots, one line per annealing variant: lambda against the update on a logarithmic scale; and against the epoch, the accuracy of the angle classifier on the snapshot images, the robust intra-class angle in degrees, and the median feature norm on a logarithmic scale.
#
# The annealing variants over training. Top left: $\lambda$ of each schedule. Top right: the
# accuracy of the angle classifier on the snapshot images. Bottom left: the robust intra-class
# angle (mean over classes) on the same images; where the margin takes hold, it shrinks.
# Bottom right: the median feature norm $\|x\|$ of the same images.
# ```
#
# ````{container} full-width
# ```{glue:figure} fig-beyond-annealing-final
# :name: fig-beyond-annealing-final
# :alt: The trained 2-D features of A-Softmax under each annealing variant, in a grid: each panel shows the test features of the ten digits, each digit with its own colour and marker, and the class-weight directions as rays from the origin, with the run's test accuracy under its title.
#
# The trained 2-D embeddings of the annealing variants (first seed). Compare how far the
# classes spread around their weights and how far apart the weights are.
# ```
# ````
#
# ```{glue:figure} anim-lambda0
# :name: fig-beyond-anim-lambda0
# :alt: Animation of 2-D MNIST test features trained with A-Softmax, m = 4, and lambda = 0 from the first update, with the epoch shown on each frame; the ten digits have their own colours and markers and the class-weight directions are drawn as rays.
#
# A-Softmax with $\lambda = 0$ from the first update, 2-D: the features over training.
# ```
#
# **What this build measured** ({numref}`fig-beyond-annealing-curves` to
# {numref}`fig-beyond-anim-lambda0`):
#
# ```{glue:md} annealing_list
# ```
#
# Why $\lambda = 0$ from the first update is hard: at initialisation the features are at angles
# near $90°$ from every weight, where $\psi$ is strongly negative
# ($\psi(90°)$ = {glue:text}`psi_90` for $m$ = {glue:text}`anneal_margin`), so the target logit
# $\|x\|\psi(\theta_y)$ is far below the other logits $\|x\|\cos\theta_j \approx 0$ and the loss
# falls fastest by *shrinking* $\|x\|$ — towards the origin, where the logits barely depend on
# the angles. {glue:text}`zero_lambda_sentence` The softmax start ($\lambda$ =
# {glue:text}`lambda_start` at the first update) and the floor act differently: compare the
# fixed-$\lambda$ run, which has the floor without the start.

# %% tags=["hide-input"]
lines = []
for name, key in annealing.items():
    run, angles = first_run[key], summary[key].robust
    lines.append(
        f"- *{name}*: the angle classifier "
        f"{convergence_phrase(reached[name], convergence_accuracy)} on the "
        f"snapshot images; final test accuracy "
        f"{percent(run.final_test_accuracy)} %, λ at the end "
        f"{run.metrics[-1]['lambda']:.2f}, median ‖x‖ {median_norm[name]:.3g}, "
        f"robust intra-class angle {angles.intra:.1f}°, nearest weights "
        f"{angles.between_weights:.1f}° apart."
    )
glue_markdown("annealing_list", "\n".join(lines))
psi_90 = psi(torch.tensor(math.pi / 2, dtype=torch.float64), anneal_margin)
glue_value("psi_90", f"{float(psi_90):g}")
glue_value("lambda_start", f"{schedules['official annealing'].first:.4g}")
zero_angles = summary["annealing", 2, "λ = 0"].robust
official_angles = summary["annealing", 2, "official annealing"].robust
shorter = median_norm["λ = 0"] < median_norm["official annealing"]
closer = zero_angles.between_weights < official_angles.between_weights
glue_value(
    "zero_lambda_sentence",
    f"In this build the λ = 0 run ends with a median ‖x‖ of "
    f"{median_norm['λ = 0']:.3g} against {median_norm['official annealing']:.3g}"
    f" for the official schedule, and with its nearest class weights "
    f"{zero_angles.between_weights:.1f}° apart against "
    f"{official_angles.between_weights:.1f}°"
    + (
        ": the collapse described here."
        if shorter and closer
        else "; the collapse described here did not show in full."
    ),
)

# %% [markdown]
# ## Five heads: softmax, modified softmax, A-Softmax, CosFace, ArcFace
#
# CosFace and ArcFace replace $\|x\|$ by a fixed scale $s$ and give the target class an additive
# margin: CosFace's target logit is $s(\cos\theta_y - m)$ {cite}`wang2018cosface`, ArcFace's is
# $s\cos(\theta_y + m)$ {cite}`deng2019arcface` (continued linearly past $\theta_y = \pi - m$ so
# that it keeps decreasing); every other logit is $s\cos\theta_j$. Here $s$ = `scale` =
# {glue:text}`scale`, without annealing ($\lambda = 0$), as in their papers.
#
# The papers' margins (CosFace {glue:text}`cosface_margin`, ArcFace
# {glue:text}`arcface_margin` radians) are meant for many dimensions. In
# {glue:text}`high_dim`-D they are used as published. In 2-D, where ten classes are at most
# $36°$ ($0.63$ rad) apart, they ask for much more: towards a neighbour $36°$ away,
# {glue:text}`paper_margins_sentence` (set `paper_margins_in_2d = True` to train them in 2-D
# anyway and add them to the tables). The 2-D rows therefore use margins sized to the circle
# (`sized_margins`): towards the same neighbour, {glue:text}`sized_margins_sentence` from the
# class weight, close to the {glue:text}`boundary_floor`° of A-Softmax ($m = 4$) at
# $\lambda = 5$. A-Softmax uses the official annealing in 2-D and $\lambda = 0$ in
# {glue:text}`high_dim`-D, as in the margin sweep; the 2-D table also repeats the $\lambda = 0$
# run of the annealing section. Single seeds: differences smaller than the seed-to-seed spread
# of the margin sweep are not evidence either way.
#
# With 2-D features:

# %% tags=["hide-input", "full-width"]
neighbour = math.radians(36)  # ten classes evenly spread on a circle
paper_margins = [
    ("cosface", settings.cosface_margin),
    ("arcface", settings.arcface_margin),
]
for name, chosen in (
    ("paper_margins_sentence", paper_margins),
    ("sized_margins_sentence", settings.sized_margins),
):
    phrases = [boundary_phrase(h, m, neighbour) for h, m in chosen]
    glue_value(name, join_names(phrases))
glue_value("scale", f"{settings.scale:g}")
glue_value("cosface_margin", f"{settings.cosface_margin:g}")
glue_value("arcface_margin", f"{settings.arcface_margin:g}")
comparison = {d: comparison_keys(groups, d) for d in dimensions}
HEADS_COLUMNS = ["head", "test accuracy (%)", *ANGLE_COLUMNS]
HEADS_FORMATS = ["{}", "{}", *ANGLE_FORMATS]
rows = comparison_rows(comparison[2], groups, summary)
display(show_table(rows, HEADS_COLUMNS, HEADS_FORMATS))

# %% [markdown]
# With {glue:text}`high_dim`-D features:

# %% tags=["hide-input", "full-width"]
rows = comparison_rows(comparison[settings.high_dim], groups, summary)
display(show_table(rows, HEADS_COLUMNS, HEADS_FORMATS))

# %% tags=["hide-input"]
figure, axes = plt.subplots(
    len(dimensions), 1, figsize=(FULL_WIDTH_INCHES, 8.6), layout="constrained"
)
for ax, dimension in zip(axes, dimensions, strict=True):
    keys = comparison[dimension]
    plot_class_angles(
        ax,
        [run_name(groups[key][0]).replace(", ", ",\n") for key in keys],
        [robust[groups[key][0]] for key in keys],
        title=f"{dimension}-D features, first seed",
        legend=False,
    )
figure.legend(
    *axes[0].get_legend_handles_labels(),
    loc="outside lower center",
    ncols=3,
    frameon=False,
)
glue_figure("fig-beyond-heads-angles", figure)
for head in ("cosface", "arcface"):
    run = first_run[showcase_key(groups, 2, head)]
    glue_animation(
        f"anim-{head}",
        run.snapshots,
        f"{run_label(run.config)}, 2-D",
        path=Path(figures_dir) / f"beyond_embedding_2d_{head}.gif",
    )

# %% [markdown]
# ````{container} full-width
# ```{glue:figure} fig-beyond-heads-angles
# :name: fig-beyond-heads-angles
# :alt: Two panels, 2-D and high-dimensional features, with one position per head on the horizontal axis and angles in degrees on the vertical axis: for each class, the angle from its features to its own weight, to the nearest other weight, and a quarter of the angle to the nearest other weight, with lines joining the means over the classes.
#
# Robust class angles of the five heads (first seed). Blue below green: the class meets the
# quarter-angle criterion.
# ```
# ````
#
# The original softmax, the modified softmax and A-Softmax in 2-D are chapter 3's runs, animated
# there ({numref}`fig-anim-2d-original`, {numref}`fig-anim-2d-modified` and
# {numref}`fig-anim-2d-angular`). CosFace and ArcFace with the margins sized for 2-D, the same
# way — each frame shows the features of the same test images, the lines are the directions of
# the class weights $W_j$:
#
# ````{container} full-width animation-row
# ```{glue:figure} anim-cosface
# :name: fig-beyond-anim-cosface
# :alt: Animation of 2-D MNIST test features trained with CosFace and a margin sized for 2-D, with the epoch shown on each frame; the ten digits have their own colours and markers and the class-weight directions are drawn as rays.
#
# CosFace, margin sized for 2-D: the features over training.
# ```
# ```{glue:figure} anim-arcface
# :name: fig-beyond-anim-arcface
# :alt: Animation of 2-D MNIST test features trained with ArcFace and a margin sized for 2-D, with the epoch shown on each frame; the ten digits have their own colours and markers and the class-weight directions are drawn as rays.
#
# ArcFace, margin sized for 2-D: the features over training.
# ```
# ````
#
# **What this build measured** ({numref}`fig-beyond-heads-angles`):
#
# ```{glue:md} heads_list
# ```

# %% tags=["hide-input"]
lines = []
for dimension in dimensions:
    names = {key: run_name(groups[key][0]) for key in comparison[dimension]}
    accuracy = {key: summary[key].accuracy.mean for key in names}
    intra = {key: summary[key].robust.intra for key in names}
    best, worst = max(names, key=accuracy.get), min(names, key=accuracy.get)
    tight, loose = min(names, key=intra.get), max(names, key=intra.get)
    lines.append(
        f"- **{dimension}-D**: most accurate *{names[best]}* "
        f"({percent(accuracy[best])} %), least *{names[worst]}* "
        f"({percent(accuracy[worst])} %); tightest classes *{names[tight]}* "
        f"(robust intra-class angle {intra[tight]:.1f}°), loosest "
        f"*{names[loose]}* ({intra[loose]:.1f}°)."
    )
glue_markdown("heads_list", "\n".join(lines))

# %% [markdown]
# ## Feature norms
#
# A-Softmax's logits are $\|x\|\cos\theta_j$, and so are the modified softmax's: the norm
# multiplies every logit, so a longer feature gives a more confident softmax without changing
# the predicted class, and the loss can lower itself on well-placed training images by
# lengthening their features. CosFace and ArcFace use $s\cos\theta_j$ and ignore $\|x\|$, so
# their confidence is a function of the angles alone.
#
# For each head (first seed; in 2-D CosFace and ArcFace with the margins sized for 2-D) on the
# test set: the norms of correctly and wrongly classified features and Spearman's rank
# correlation between norm and confidence (the largest softmax probability of the margin-free
# logits),

# %% tags=["hide-input", "full-width"]
norms = {}
for dimension in dimensions:
    for head in FIVE_HEADS:
        key = showcase_key(groups, dimension, head)
        run = first_run[key]
        with torch.no_grad():
            logits = heads[groups[key][0]](run.test_features)
        norms[key] = norm_analysis(run.test_features, run.test_labels, logits)

display(
    show_table(
        [
            [
                run_name(groups[key][0]),
                f"{key[1]}-D",
                analysis.median_correct,
                analysis.median_wrong,
                analysis.errors,
                analysis.correlation,
            ]
            for key, analysis in norms.items()
        ],
        [
            "head",
            "features",
            "median ‖x‖, correct",
            "median ‖x‖, wrong",
            "errors",
            "Spearman ρ",
        ],
        ["{}", "{}", "{:.2f}", "{:.2f}", "{:,}", "{:.2f}"],
    )
)

# %% [markdown]
# and the error rate and the mean confidence in ten bins of equal count ordered by norm, for
# the shortest and the longest tenth of the features:

# %% tags=["hide-input", "full-width"]
display(
    show_table(
        [
            [
                run_name(groups[key][0]),
                f"{key[1]}-D",
                percent(float(analysis.bins.error_rate[0]), 1),
                percent(float(analysis.bins.error_rate[-1]), 1),
                float(analysis.bins.mean_confidence[0]),
                float(analysis.bins.mean_confidence[-1]),
            ]
            for key, analysis in norms.items()
        ],
        [
            "head",
            "features",
            "error rate, shortest tenth (%)",
            "error rate, longest tenth (%)",
            "confidence, shortest tenth",
            "confidence, longest tenth",
        ],
        ["{}", "{}", "{}", "{}", "{:.3f}", "{:.3f}"],
    )
)

# %% tags=["hide-input"]
shown = [head for head in FIVE_HEADS if showcase_key(groups, 2, head)]
figure, axes = plt.subplots(
    1,
    len(shown),
    figsize=(FULL_WIDTH_INCHES, 3.0),
    sharey=True,
    layout="constrained",
)
edges = np.linspace(-3, 2, 41)  # log2 of the norm over its median
for ax, head in zip(axes, shown, strict=True):
    key = showcase_key(groups, 2, head)
    analysis = norms[key]
    relative = analysis.relative_log_norms().numpy()
    correct = analysis.correct.numpy()
    ax.hist(
        relative[correct],
        bins=edges,
        density=True,
        color=HEAD_COLOURS[head],
        label="correct",
    )
    ax.hist(
        relative[~correct],
        bins=edges,
        density=True,
        histtype="step",
        color="black",
        label="wrong",
    )
    ax.set_title(textwrap.fill(run_label(groups[key][0]), 16))
    ax.grid(alpha=0.3)
axes[0].set_ylabel("density")
axes[0].legend(loc="upper left", frameon=False)
figure.supxlabel("log2(‖x‖ / median ‖x‖), 2-D features")
glue_figure("fig-beyond-norm-histograms", figure)

figure, axes = plt.subplots(
    1,
    len(dimensions),
    figsize=(COLUMN_INCHES, 3.8),
    sharey=True,
    layout="constrained",
)
for ax, dimension in zip(axes, dimensions, strict=True):
    for index, head in enumerate(FIVE_HEADS):
        bins = norms[showcase_key(groups, dimension, head)].bins
        ax.plot(
            np.arange(1, len(bins.error_rate) + 1),
            bins.error_rate.numpy(),
            marker=series_style(index)[2],
            markersize=4,
            color=HEAD_COLOURS[head],
            label=head_name(head),
        )
    ax.set(title=f"{dimension}-D features", xlabel="norm bin (1: shortest)")
    ax.set_yscale("symlog", linthresh=0.01)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(alpha=0.3)
axes[0].set_ylabel("error rate")
figure.legend(
    *axes[0].get_legend_handles_labels(),
    loc="outside lower center",
    ncols=3,
    frameon=False,
)
glue_figure("fig-beyond-norm-errors", figure)

# %% [markdown]
# ````{container} full-width
# ```{glue:figure} fig-beyond-norm-histograms
# :name: fig-beyond-norm-histograms
# :alt: One histogram per head, side by side, of the base-2 logarithm of the feature norm over its median for the 2-D test features: filled bars for the correctly classified features, a black outline for the misclassified ones.
#
# The distribution of $\|x\|$ relative to its median, 2-D features, first seed: correctly
# (filled) and wrongly (outline) classified test features. Where the outline sits left of the
# filled bars, the errors are the shorter features.
# ```
# ````
#
# ```{glue:figure} fig-beyond-norm-errors
# :name: fig-beyond-norm-errors
# :alt: Two line plots, 2-D and high-dimensional features, of the error rate in percent on a symmetric logarithmic scale against ten norm bins from the shortest to the longest features, one line per head.
#
# The error rate per norm bin, from the shortest tenth of the test features (bin 1) to the
# longest (bin 10), per head; in 2-D CosFace and ArcFace with the margins sized for 2-D.
# ```
#
# **What this build measured** ({numref}`fig-beyond-norm-histograms` and
# {numref}`fig-beyond-norm-errors`):
#
# ```{glue:md} norm_list
# ```
#
# Where the norm-scaled heads show a strong correlation, the norm is what makes them confident:
# a longer feature sharpens every softmax, and the loss rewards it on well-placed images. If
# the misclassified features of CosFace and ArcFace are also shorter, the network gives
# ambiguous digits short features even though their loss ignores the norm.

# %% tags=["hide-input"]
with_errors = [
    key for key, a in norms.items() if a.errors and a.errors < len(a.norms)
]
shorter = [
    key
    for key in with_errors
    if norms[key].median_wrong < norms[key].median_correct
]
lines = [
    "- Misclassified test features are shorter than correctly classified ones "
    f"(median norm) in {len(shorter)} of the {len(with_errors)} runs with "
    "both kinds."
]
for what, chosen in (
    (
        "the heads whose logits scale with ‖x‖",
        ("original", "modified", "angular"),
    ),
    (
        "CosFace and ArcFace, whose confidence depends on the angles only",
        ("cosface", "arcface"),
    ),
):
    values = [
        norms[key].correlation
        for key in norms
        if groups[key][0].head in chosen
    ]
    if values:
        lines.append(
            f"- Spearman's correlation of norm and confidence for {what}: "
            f"{min(values):.2f} to {max(values):.2f}."
        )
glue_markdown("norm_list", "\n".join(lines))

# %% [markdown]
# ## Cost of this chapter
#
# Training seconds as recorded by the runs themselves (summed over the runs, each on one CPU
# thread when `workers` > 1, so the wall time is lower by about the number of workers). A run
# that belongs to several sections (the sweep's $m = 4$ and $m = 1$ are the five heads'
# A-Softmax and modified softmax) counts once, in the first section that lists it; the runs of
# chapter 2 are trained there when it runs first.

# %% tags=["hide-input"]
sections = {name: [] for name in SECTION_NAMES.values()}
for key, group in groups.items():
    sections[SECTION_NAMES[key[0]]] += [run_of[config] for config in group]
costs = training_costs(sections, shared=chapter_2_configs(profile, device))
display(show_table(*cost_table(costs, "section", "of them chapter 2's")))
