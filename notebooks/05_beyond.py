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
# mentions (it is in the official code), and leaves the feature norm $\|x\|$ free. Its
# successors CosFace {cite}`wang2018cosface` and ArcFace {cite}`deng2019arcface` normalise the
# features and put an additive margin on the cosine or on the angle. This chapter measures all
# of that on MNIST with the same network, the same training loop and the same test set:
#
# 1. **Margin sweep**: A-Softmax with $m = 1, \dots, 5$ with 2-D and with 32-D features, with
#    the angle statistics behind the paper's argument.
# 2. **Annealing**: the official $\lambda$ schedule against $\lambda = 0$ from the start,
#    against a fixed $\lambda$ and against other floors.
# 3. **Five heads**: original softmax, modified softmax, A-Softmax, CosFace and ArcFace in one
#    table, with animations of the 2-D embeddings.
# 4. **Feature norms**: how $\|x\|$ is distributed per head and how it relates to confidence
#    and to errors.
#
# Runs that chapter 2 trains (original and modified softmax and A-Softmax with $m = 4$, in 2-D)
# are read back from the train-or-load cache rather than trained again.
#
# **Cost.** The full profile trains a few dozen MNIST runs; the 2-D runs of chapter 2 are
# shared with it. The last section lists the runs and the training seconds each part of the
# chapter recorded in this build; the smoke profile takes about a minute.

# %% tags=["parameters"]
profile = "smoke"  # "smoke": 2,048 training images and 2 epochs per run; "full": the book
seed = 0  # seeds the notebook itself; the runs use `seeds`
seeds: list[int] | None
seeds = None  # None: [0] for smoke, [0, 1] for full: the high_dim sweep, m 1 and 4 in 2-D
new_seeds: list[int] | None = None  # None: the first of `seeds`
margins: list[int] | None
margins = None  # A-Softmax margins m; None: 1 to 5 (full) or [1, 4] (smoke); m of 1 is modified
high_dim = 32  # the second feature dimension
high_dim_epochs = 1
high_dim_annealing = (
    False  # False: A-Softmax without annealing (lambda 0) in high_dim
)
scale = 16.0  # s of CosFace and ArcFace
cosface_margin = 0.35  # CosFace: s (cos theta - m), the CosFace paper's m
arcface_margin = (
    0.5  # ArcFace: s cos(theta + m), the ArcFace paper's m (radians)
)
sized_margins = {
    "cosface": 0.06,
    "arcface": 0.2,
}  # 2-D margins, boundary near 12.5 degrees
paper_margins_in_2d = (
    False  # True: also the papers' margins in 2-D (2 more 2-D runs)
)
anneal_margin = 4  # the A-Softmax margin of the annealing comparison
fixed_lambda = (
    5.0  # lambda held constant from the first step (the official floor)
)
lambda_floors = [0.0]  # floors of the official schedule besides its own 5
quantile = 0.99  # robust angle statistics ignore the 1 % of features furthest from their class
convergence_accuracy = 0.9  # "converged": this accuracy on the snapshot images
device = "auto"
workers = 2  # runs trained in parallel processes (one CPU thread each)
data_root: str | None = (
    None  # None: $SPHEREFACE_DATA, else ~/.cache/sphereface/data
)
cache_dir: str | None = (
    None  # None: $SPHEREFACE_CACHE, else ~/.cache/sphereface/runs
)
figures_dir = "figures"  # GIFs are written here, next to the executed notebook

# %% tags=["hide-input"]
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display
from sphereface_lib.analysis.angles import (
    angular_margins,
    class_angles,
    margin_boundary_angle,
    summarize_angles,
)
from sphereface_lib.analysis.norms import (
    bins_by_norm,
    rank_correlation,
    softmax_confidence,
)
from sphereface_lib.book.experiments import grid, run_all, summarize
from sphereface_lib.book.plots import (
    CLASS_COLOURS,
    HEAD_COLOURS,
    HEAD_LABELS,
    animate_embeddings,
    final_embeddings_figure,
    plot_class_angles,
)
from sphereface_lib.book.report import show_table
from sphereface_lib.common.seeding import seed_everything
from sphereface_lib.maths.margins import psi
from sphereface_lib.training import lambda_at

seed_everything(seed)
if seeds is None:
    seeds = [0] if profile == "smoke" else [0, 1]
if margins is None:
    margins = [1, 4] if profile == "smoke" else [1, 2, 3, 4, 5]
if new_seeds is None:
    new_seeds = seeds[:1]
dimensions = [2, high_dim]
# CosFace and ArcFace train without annealing, as in their papers; the library anneals every
# margin head unless lambda_base and lambda_min are both 0.
no_annealing = {"lambda_base": 0.0, "lambda_min": 0.0}
head_options = {
    "original": {},
    "modified": {},
    "angular": {"margin": 4},
    "cosface": {
        "scale": float(scale),
        "additive_margin": float(cosface_margin),
        **no_annealing,
    },
    "arcface": {
        "scale": float(scale),
        "additive_margin": float(arcface_margin),
        **no_annealing,
    },
}
# In 2-D A-Softmax uses the official annealing (the runs of chapter 2). The official schedule
# needs 3.5 epochs to reach its floor, so the short high-dimensional runs train without it.
annealing_of = {2: {}, high_dim: {} if high_dim_annealing else no_annealing}
angular_label = {
    dimension: "A-Softmax, m=4, "
    + ("official annealing" if not extra else "λ = 0")
    for dimension, extra in annealing_of.items()
}
groups = {}
for dimension in dimensions:
    options = {
        "device": device,
        **({} if dimension == 2 else {"epochs": high_dim_epochs}),
    }
    for margin in margins:
        head, extra = (
            ("modified", {})
            if margin == 1
            else ("angular", {"margin": margin})
        )
        extra = (
            {**extra, **annealing_of[dimension]}
            if head == "angular"
            else extra
        )
        # In 2-D, m = 1 and m = 4 are chapter 2's runs: their seeds cost nothing here.
        run_seeds = (
            new_seeds if dimension == 2 and margin not in (1, 4) else seeds
        )
        groups["sweep", dimension, margin] = grid(
            profile, [head], [dimension], run_seeds, **options, **extra
        )
    for head, extra in head_options.items():
        if (
            dimension == 2
            and head in ("cosface", "arcface")
            and not paper_margins_in_2d
        ):
            continue
        extra = (
            {**extra, **annealing_of[dimension]}
            if head == "angular"
            else extra
        )
        groups["heads", dimension, head] = grid(
            profile, [head], [dimension], new_seeds, **options, **extra
        )
for head, margin in sized_margins.items():
    groups["sized", head] = grid(
        profile,
        [head],
        [2],
        new_seeds,
        scale=float(scale),
        additive_margin=float(margin),
        device=device,
        **no_annealing,
    )
zero_lambda = "λ = 0 throughout"
annealing_variants = {
    "official (floor 5)": {},
    zero_lambda: no_annealing,
    f"fixed λ = {fixed_lambda:g}": {
        "lambda_base": float(fixed_lambda),
        "lambda_gamma": 0.0,
        "lambda_min": float(fixed_lambda),
    },
    **{
        f"official, floor {floor:g}": {"lambda_min": float(floor)}
        for floor in lambda_floors
    },
}
for name, extra in annealing_variants.items():
    groups["annealing", name] = grid(
        profile,
        ["angular"],
        [2],
        new_seeds,
        margin=anneal_margin,
        device=device,
        **extra,
    )
configs = list(
    dict.fromkeys(config for group in groups.values() for config in group)
)
print(f"{len(configs)} distinct runs in {len(groups)} groups")
print(
    f"training images per run: {configs[0].train_limit or 60000}, "
    f"test images: {configs[0].test_limit or 10000}"
)

# %% [markdown]
# Training goes through the library's train-or-load cache (in `workers` parallel processes);
# the progress bar is this cell's only output and is left out of the page.

# %% tags=["nbval-ignore-output", "remove-output"]
results = run_all(configs, cache_dir, data_root, workers=workers)

# %% [markdown]
# Every statistic below is computed from the final features of the full test set of the
# profile and the final class weights $W_j$ of each run. Angles are between a feature and the
# *direction* of a weight (for the original softmax the bias also takes part in the decision,
# so its angles describe the geometry, not the classifier).

# %% tags=["hide-input"]
run_of = dict(zip(configs, results, strict=True))
strict_angles, robust_angles, heads_of = {}, {}, {}
for config, run in run_of.items():
    heads_of[config] = run.load_model()[1]
    weights = heads_of[config].weight.detach()
    strict_angles[config] = class_angles(
        run.test_features, run.test_labels, weights, 1.0
    )
    robust_angles[config] = class_angles(
        run.test_features, run.test_labels, weights, quantile
    )
rows_of = {}
for key, group in groups.items():
    accuracy = summarize(run_of[c] for c in group)
    spread = "" if accuracy.count < 2 else f" ± {accuracy.std:.4f}"
    strict = summarize_angles([strict_angles[c] for c in group])
    robust = summarize_angles([robust_angles[c] for c in group])
    rows_of[key] = [
        group[0].epochs,
        accuracy.count,
        f"{accuracy.mean:.4f}{spread}",
        strict.intra,
        robust.intra,
        robust.to_other_weight,
        robust.between_weights,
        robust.separated,
    ]
ANGLE_COLUMNS = [
    "epochs",
    "seeds",
    "test accuracy",
    "max ∠(x, W_y)",
    f"{quantile:.0%} ∠(x, W_y)",
    f"{1 - quantile:.0%} ∠(x, nearest other W)",
    "∠(W_y, nearest other W)",
    f"classes with {quantile:.0%} ∠(x, W_y) ≤ ∠W / 4",
]
ANGLE_FORMATS = [
    "{}",
    "{}",
    "{}",
    "{:.1f}",
    "{:.1f}",
    "{:.1f}",
    "{:.1f}",
    "{:.1f}",
]
print(f"angles in degrees; quantile {quantile}")

# %% [markdown]
# ## 1. The margin sweep
#
# The paper's argument for $m \ge 3$ (its Section 3.3) is about angles: A-Softmax should make
# the largest angle between two features of one class smaller than the smallest angle between
# features of two different classes. Two per-class quantities describe this, and both are
# measured here on the test set:
#
# - **intra**: the largest angle between a feature of class $y$ and its weight $W_y$;
# - **the gap between classes**: the smallest angle from $W_y$ to another weight, and the
#   smallest angle from a feature of class $y$ to another class's weight.
#
# Angles on the sphere obey the triangle inequality, so if every class stays within
# *intra* of its weight, two features of one class are at most $2\,\text{intra}$ apart and two
# features of classes $y, j$ at least $\angle(W_y, W_j) - 2\,\text{intra}$ apart. The criterion
# therefore holds as soon as $\text{intra} \le \angle(W_y, W_j)/4$. In the plane of two
# neighbouring weights at angle $\theta_w$, margin $m$ places the decision boundary where
# $m\theta_y = \theta_j$ with $\theta_y + \theta_j = \theta_w$, i.e. at $\theta_w / (m+1)$ from
# $W_y$: a quarter of $\theta_w$ exactly when $m = 3$. This is the same lower bound $m \ge 3$
# that the paper derives for many classes. Ten classes evenly spread on a 2-D circle are
# $36°$ apart, so the ideal bound is $9°$.
#
# The strict maximum over all test features is dominated by the few misclassified digits
# (a feature on the wrong side of the circle is up to $180°$ from its weight), so the tables
# also give the robust version: the `quantile` of the angles to the own weight and the
# complementary quantile of the angles to the nearest other weight. All values are means over
# the ten classes (and over seeds where there are several). Row $m = 1$ is the modified
# softmax run itself, since $\psi(\theta) = \cos\theta$ when $m = 1$.
#
# In 2-D, A-Softmax trains with the official $\lambda$ annealing of the next section (the runs
# of chapter 2 for $m = 4$), which ends at $\lambda = 5$: the margin term then weighs $1/6$ of the
# target logit, so the boundary sits much further out than $\theta_w/(m+1)$. The column
# *boundary at final λ* gives where: the angle from $W_y$ at which the trained target logit
# $(\lambda\cos\theta_y + \psi(\theta_y))/(1+\lambda)$ stops beating a rival at the measured
# mean angle $\theta_w$ between neighbouring weights (for $\theta_w = 36°$ and $m = 4$: $7.2°$ at
# $\lambda = 0$, $12.7°$ at $\lambda = 5$, $18°$ without a margin). The
# higher-dimensional runs are short (`high_dim_epochs`, one epoch by default), and after one
# epoch the official schedule would still be at $\lambda \approx 17.5$, so there A-Softmax
# trains without annealing ($\lambda = 0$, the pure margin of Eq. 7) unless
# `high_dim_annealing` is set.
#
# Seeds: in 2-D, $m = 1$ and $m = 4$ are chapter 2's runs and come with all of `seeds` at no
# cost; the other margins, as long as chapter 2's 2-D runs, use `new_seeds` (the first seed).
# In 32-D every margin uses `seeds`.

# %%
for dimension in dimensions:
    rows = []
    for margin in margins:
        group = groups["sweep", dimension, margin]
        final_lambda = run_of[group[0]].metrics[-1]["lambda"]
        between = math.radians(
            summarize_angles([robust_angles[c] for c in group]).between_weights
        )
        boundary = math.degrees(
            margin_boundary_angle(between, margin, final_lambda)
        )
        rows.append(
            [
                margin,
                final_lambda,
                boundary,
                *rows_of["sweep", dimension, margin],
            ]
        )
    print(f"{dimension}-D features")
    display(
        show_table(
            rows,
            ["m", "final λ", "boundary at final λ", *ANGLE_COLUMNS],
            ["{}", "{:.2f}", "{:.1f}", *ANGLE_FORMATS],
        )
    )

# %% [markdown]
# Per class (small dots) and averaged over the classes (lines), for the first seed: the robust
# angle of the features to their own weight (blue) and to the nearest other weight (orange),
# and a quarter of the angle to the nearest other weight (green, the bound for blue).

# %%
figure, axes = plt.subplots(
    1, len(dimensions), figsize=(6.5 * len(dimensions), 4.2)
)
for ax, dimension in zip(np.atleast_1d(axes), dimensions, strict=True):
    plot_class_angles(
        ax,
        [str(margin) for margin in margins],
        [
            robust_angles[groups["sweep", dimension, margin][0]]
            for margin in margins
        ],
        title=f"{angular_label[dimension].replace('m=4, ', '')}, {dimension}-D features",
        xlabel="margin m",
    )
figure.tight_layout()
plt.show()

# %% [markdown]
# The final 2-D embeddings of the first seed, one per margin (the first test images of the
# profile, with the class-weight directions as rays).

# %%
chosen = [run_of[groups["sweep", 2, margin][0]] for margin in margins]
final_embeddings_figure(
    [run.snapshots for run in chosen],
    [
        f"m = {margin}, accuracy {run.final_test_accuracy:.4f}"
        for margin, run in zip(margins, chosen, strict=True)
    ],
)
plt.show()

# %% [markdown]
# **What this build measured.** Means over the seeds of each margin; the angles are the robust
# ones of the tables.

# %% tags=["hide-input"]
text = []
for dimension in dimensions:
    accuracy = {
        m: summarize(run_of[c] for c in groups["sweep", dimension, m])
        for m in margins
    }
    angles = {
        m: summarize_angles(
            [robust_angles[c] for c in groups["sweep", dimension, m]]
        )
        for m in margins
    }
    best = max(margins, key=lambda m: accuracy[m].mean)
    worst = min(margins, key=lambda m: accuracy[m].mean)
    first, last = margins[0], margins[-1]
    spread = [
        f"{accuracy[m].std:.4f} (m = {m})"
        for m in margins
        if accuracy[m].count > 1
    ]
    final_lambda = run_of[groups["sweep", dimension, last][0]].metrics[-1][
        "lambda"
    ]
    between = angles[last].between_weights
    boundary = math.degrees(
        margin_boundary_angle(math.radians(between), last, final_lambda)
    )
    epochs = groups["sweep", dimension, last][0].epochs
    text.append(
        f"- **{dimension}-D** ({epochs} epoch{'s' if epochs != 1 else ''}): test accuracy "
        f"from {accuracy[worst].mean:.4f} (m = {worst}) to {accuracy[best].mean:.4f} (m = {best})"
        + (
            f"; seed-to-seed standard deviation {', '.join(spread)}"
            if spread
            else ""
        )
        + f". Intra-class angle {angles[first].intra:.1f}° for m = {first}, "
        f"{angles[last].intra:.1f}° for m = {last}; nearest weights {angles[first].between_weights:.1f}° "
        f"and {between:.1f}° apart. Classes meeting the quarter-angle criterion: "
        f"{min(a.separated for a in angles.values()):.0f} to {max(a.separated for a in angles.values()):.0f} "
        f"of {len(robust_angles[groups['sweep', dimension, first][0]].intra)}. At the final λ = "
        f"{final_lambda:.2f}, m = {last} puts its boundary {boundary:.1f}° from its weight; a "
        f"quarter of the angle between neighbouring weights is {between / 4:.1f}°."
    )
display(Markdown("\n".join(text)))

# %% [markdown]
# The paper's argument for $m \ge 3$ is about pure A-Softmax ($\lambda = 0$). With the official
# schedule, which ends at $\lambda = 5$ in 2-D, the margin term weighs only $1/6$ of the target
# logit and the boundary sits further out than $\theta_w/(m+1)$, so even a large $m$ need not
# meet the quarter-angle bound: the recipe that makes the 2-D training converge (next section)
# keeps the effective margin below the one the argument asks for. The short high-dimensional
# runs train with $\lambda = 0$; there a larger $m$ is a harder objective for the same number
# of updates.

# %% [markdown]
# ## 2. Annealing
#
# The official SphereFace code does not train A-Softmax directly. Its target logit is
# $(\lambda\|x\|\cos\theta_y + \|x\|\psi(\theta_y))/(1+\lambda)$ with
# $\lambda = \max(\lambda_{\min}, 1000\,(1 + 0.12\,t)^{-1})$ at step $t$: plain softmax at the
# start, then a slowly growing share of the margin, and never less than $\lambda_{\min} = 5$, so
# the margin term never weighs more than $1/6$. The variants here (A-Softmax, $m$ =
# `anneal_margin`, 2-D, first seed) are:
#
# - **official**: the schedule above (the run of chapter 2);
# - **$\lambda = 0$ throughout**: pure A-Softmax from the first step, as the paper's Eq. 7
#   is written;
# - **fixed $\lambda$**: the official floor from the first step, without the softmax start;
# - **other floors** of the same schedule. With power 1 the schedule decays slowly, so a low
#   floor is not reached within the run: the cell below prints where each schedule stands.
#
# "Converged" below is the first snapshot (four per epoch) at which the angle classifier
# reaches `convergence_accuracy` on the snapshot images. In the smoke profile the runs are so
# short that the schedule never leaves its softmax phase and nothing converges.

# %%
official_run = run_of[groups["annealing", next(iter(annealing_variants))][0]]
total_steps = int(official_run.metrics[-1]["step"])
steps_per_epoch = total_steps / official_run.metrics[-1]["epoch"]
floor_step = next(
    t
    for t in range(10**6)
    if lambda_at(official_run.config, t) <= official_run.config.lambda_min
)
print(
    f"{total_steps} steps in all ({steps_per_epoch:.0f} per epoch); the official schedule reaches its floor "
    f"λ = {official_run.config.lambda_min:g} at step {floor_step} (epoch {floor_step / steps_per_epoch:.2f})"
)
for name in annealing_variants:
    config = groups["annealing", name][0]
    print(
        f"{name}: λ = {lambda_at(config, 0):.4g} at the first step, {lambda_at(config, total_steps - 1):.3g} at the last"
    )

# %% tags=["hide-input"]
names = list(annealing_variants)
anneal_runs = {name: run_of[groups["annealing", name][0]] for name in names}
snapshot_curves = {}
for name, run in anneal_runs.items():
    snapshots = run.snapshots
    accuracy = [
        float(
            (angular_margins(features, snapshots.labels, weights) > 0)
            .double()
            .mean()
        )
        for features, weights in zip(
            snapshots.features, snapshots.weights, strict=True
        )
    ]
    intra = [
        math.degrees(
            float(
                torch.nanmean(
                    class_angles(
                        features, snapshots.labels, weights, quantile
                    ).intra
                )
            )
        )
        for features, weights in zip(
            snapshots.features, snapshots.weights, strict=True
        )
    ]
    norms = snapshots.features.double().norm(dim=2).median(dim=1).values
    snapshot_curves[name] = (
        snapshots.epochs.numpy(),
        np.array(accuracy),
        np.array(intra),
        norms.numpy(),
    )
rows = []
for name, run in anneal_runs.items():
    epochs, accuracy, _, _ = snapshot_curves[name]
    reached = np.flatnonzero(accuracy >= convergence_accuracy)
    rows.append(
        [
            name,
            run.metrics[0]["lambda"],
            run.metrics[-1]["lambda"],
            run.metrics[0]["train_loss"],
            run.metrics[-1]["train_loss"],
            "not reached"
            if len(reached) == 0
            else f"{epochs[reached[0]]:.2f}",
            float(run.test_features.double().norm(dim=1).median()),
            *rows_of["annealing", name][2:],
        ]
    )
display(
    show_table(
        rows,
        [
            "variant",
            "λ after epoch 1",
            "λ at the end",
            "train loss, epoch 1",
            "train loss, last epoch",
            f"epochs to {convergence_accuracy:.0%}",
            "median ‖x‖ (test)",
            *ANGLE_COLUMNS[2:],
        ],
        [
            "{}",
            "{:.2f}",
            "{:.2f}",
            "{:.3f}",
            "{:.3f}",
            "{}",
            "{:.3g}",
            *ANGLE_FORMATS[2:],
        ],
    )
)

# %% [markdown]
# Top left: $\lambda$ over the steps of each schedule. Top right: accuracy of the angle
# classifier on the snapshot images over training. Bottom left: the robust intra-class angle
# (mean over classes) on the same images; where the margin takes hold, it shrinks. Bottom
# right: the median feature norm $\|x\|$ of the same images.

# %% tags=["hide-input"]
figure, axes = plt.subplots(2, 2, figsize=(11, 7.2))
axes = axes.ravel()
line_colours = dict(
    zip(names, CLASS_COLOURS[4:] + CLASS_COLOURS[:4], strict=False)
)
line_styles = dict(zip(names, ["-", "--", "-.", ":"] * 3, strict=False))
for name, run in anneal_runs.items():
    total_steps = int(run.metrics[-1]["step"])
    steps = np.arange(0, total_steps + 1, max(1, total_steps // 400))
    lambdas = [lambda_at(run.config, int(step)) for step in steps]
    axes[0].plot(
        steps, lambdas, line_styles[name], color=line_colours[name], label=name
    )
    epochs, *curves = snapshot_curves[name]
    for ax, values in zip(axes[1:], curves, strict=True):
        ax.plot(
            epochs,
            values,
            line_styles[name],
            marker="o",
            markersize=3,
            color=line_colours[name],
            label=name,
        )
axes[0].set_yscale("symlog", linthresh=1.0)
axes[0].set_xlabel("step")
axes[0].set_ylabel("λ")
axes[1].set_ylabel("snapshot accuracy (angle classifier)")
axes[2].set_ylabel(f"{quantile:.0%} ∠(x, W_y), degrees")
axes[3].set_ylabel("median ‖x‖")
axes[3].set_yscale("log")
for ax in axes:
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
for ax in axes[1:]:
    ax.set_xlabel("epoch")
figure.tight_layout()
plt.show()

# %%
final_embeddings_figure(
    [run.snapshots for run in anneal_runs.values()],
    [
        f"{name}\naccuracy {run.final_test_accuracy:.4f}"
        for name, run in anneal_runs.items()
    ],
    columns=2,
)
plt.show()

# %% [markdown]
# The run with $\lambda = 0$ throughout, animated from the first step:
#
# ![A-Softmax with lambda = 0 throughout, 2-D](figures/beyond_annealing_lambda0.gif)

# %%
run = anneal_runs[zero_lambda]
animate_embeddings(
    run.snapshots,
    Path(figures_dir) / "beyond_annealing_lambda0.gif",
    title=f"A-Softmax m={anneal_margin}, λ = 0",
)
print("animation written: beyond_annealing_lambda0.gif")

# %% [markdown]
# **What this build measured.**

# %% tags=["hide-input"]
official_name = next(iter(annealing_variants))
reached = {}
for name in names:
    epochs, accuracy, _, _ = snapshot_curves[name]
    hits = np.flatnonzero(accuracy >= convergence_accuracy)
    reached[name] = None if len(hits) == 0 else float(epochs[hits[0]])
final = {
    name: summarize_angles([robust_angles[groups["annealing", name][0]]])
    for name in names
}
median_norm = {
    name: float(run.test_features.double().norm(dim=1).median())
    for name, run in anneal_runs.items()
}
text = []
for name, run in anneal_runs.items():
    when = (
        f"reaches {convergence_accuracy:.0%} on the snapshot images after {reached[name]:.2f} epochs"
        if reached[name] is not None
        else f"never reaches {convergence_accuracy:.0%} on the snapshot images"
    )
    text.append(
        f"- *{name}*: {when}; final test accuracy {run.final_test_accuracy:.4f}, λ at the end "
        f"{run.metrics[-1]['lambda']:.2f}, median ‖x‖ {median_norm[name]:.3g}, robust intra-class "
        f"angle {final[name].intra:.1f}°, nearest weights {final[name].between_weights:.1f}° apart."
    )
display(Markdown("\n".join(text)))
theta = torch.tensor(math.pi / 2, dtype=torch.float64)
print(
    f"psi(90°) for m = {anneal_margin}: {float(psi(theta, anneal_margin)):.0f}"
)

# %% [markdown]
# Why $\lambda = 0$ from the first step is hard: at initialisation the features are at angles
# near $90°$ from every weight, where $\psi$ is strongly negative (printed above for
# `anneal_margin`), so
# the target logit $\|x\|\psi(\theta_y)$ is far below the other logits $\|x\|\cos\theta_j \approx 0$
# and the loss falls fastest by *shrinking* $\|x\|$ — towards the origin, where the logits barely
# depend on the angles. Where the $\lambda = 0$ run ends with a much smaller median norm and
# closer class weights than the annealed ones, this is what happened. The softmax start
# ($\lambda = 1000$) and the floor act differently: compare the fixed-$\lambda$ run, which has
# the floor without the start.

# %% [markdown]
# ## 3. Five heads: softmax, modified softmax, A-Softmax, CosFace, ArcFace
#
# CosFace and ArcFace replace $\|x\|$ by a fixed scale $s$ and give the target class an additive
# margin: CosFace's target logit is $s(\cos\theta_y - m)$ {cite}`wang2018cosface`, ArcFace's is
# $s\cos(\theta_y + m)$ {cite}`deng2019arcface` (continued linearly past $\theta_y = \pi - m$ so
# that it keeps decreasing); every other logit is $s\cos\theta_j$. Here $s$ = `scale`, without
# annealing ($\lambda = 0$), as in their papers.
#
# The papers' margins ($0.35$, and $0.5$ radians) are meant for many dimensions. In 32-D they
# are used as published. In 2-D, where ten classes are at most $36°$ ($0.63$ rad) apart, they
# ask for the impossible: CosFace's $\cos\theta_y - 0.35 > \cos(36° - \theta_y)$ has no
# solution at all, and ArcFace's $\theta_y + 0.5 < 0.63 - \theta_y$ leaves only
# $\theta_y < 3.7°$ (set `paper_margins_in_2d = True` to train them in 2-D anyway and add them
# to the table). The 2-D rows therefore use margins sized to the circle (`sized_margins`):
# CosFace $m = 0.06$ and ArcFace $m = 0.2$ put the boundary to a neighbour $36°$ away at about $12.4°$ and $12.3°$ from the class weight, close to the $12.7°$
# of A-Softmax ($m = 4$) at $\lambda = 5$. A-Softmax uses the official annealing in 2-D and
# $\lambda = 0$ in 32-D, as in the margin sweep; the 2-D table also repeats the $\lambda = 0$
# run of the annealing section.

# %% tags=["hide-input"]
head_names = list(head_options)
comparison = {}  # (row label, dimension) -> group key, in table order
for dimension in dimensions:
    for head in head_names:
        if head == "angular":
            label = angular_label[dimension]
        elif head in ("cosface", "arcface"):
            label = f"{HEAD_LABELS[head]}, m={head_options[head]['additive_margin']:g}"
        else:
            label = HEAD_LABELS[head]
        if ("heads", dimension, head) in groups:
            comparison[label, dimension] = ("heads", dimension, head)
        if dimension == 2 and head == "angular":
            comparison[f"A-Softmax, m={anneal_margin}, λ = 0", 2] = (
                "annealing",
                zero_lambda,
            )
        if dimension == 2 and head in sized_margins:
            label = f"{HEAD_LABELS[head]}, m={sized_margins[head]:g} (sized for 2-D)"
            comparison[label, 2] = ("sized", head)
# The runs shown per head in the animations and the norm analysis: in 2-D the margins sized
# for 2-D, in higher dimensions the papers' margins.
showcase = {
    (dimension, head): ("sized", head)
    if dimension == 2 and head in sized_margins
    else ("heads", dimension, head)
    for dimension in dimensions
    for head in head_names
}
rows = [
    [label, dimension, *rows_of[key]]
    for (label, dimension), key in comparison.items()
]
display(
    show_table(
        rows, ["head", "dim", *ANGLE_COLUMNS], ["{}", "{}", *ANGLE_FORMATS]
    )
)

# %%
figure, axes = plt.subplots(
    len(dimensions), 1, figsize=(13, 4.4 * len(dimensions))
)
for ax, dimension in zip(np.atleast_1d(axes), dimensions, strict=True):
    chosen = {
        label: key for (label, d), key in comparison.items() if d == dimension
    }
    plot_class_angles(
        ax,
        [label.replace(", ", ",\n").replace(" (", "\n(") for label in chosen],
        [robust_angles[groups[key][0]] for key in chosen.values()],
        title=f"{dimension}-D features, first seed",
    )
figure.tight_layout()
plt.show()

# %% [markdown]
# **What this build measured.** Single seeds: differences smaller than the seed-to-seed spread
# of the margin sweep are not evidence either way.

# %%
text = []
for dimension in dimensions:
    chosen = {
        label: key for (label, d), key in comparison.items() if d == dimension
    }
    accuracy = {
        label: summarize(run_of[c] for c in groups[key]).mean
        for label, key in chosen.items()
    }
    intra = {
        label: summarize_angles([robust_angles[c] for c in groups[key]]).intra
        for label, key in chosen.items()
    }
    best, worst = (
        max(accuracy, key=accuracy.get),
        min(accuracy, key=accuracy.get),
    )
    tight, loose = min(intra, key=intra.get), max(intra, key=intra.get)
    text.append(
        f"- **{dimension}-D**: most accurate *{best}* ({accuracy[best]:.4f}), least *{worst}* "
        f"({accuracy[worst]:.4f}); tightest classes *{tight}* (robust intra-class angle "
        f"{intra[tight]:.1f}°), loosest *{loose}* ({intra[loose]:.1f}°)."
    )
display(Markdown("\n".join(text)))

# %% [markdown]
# The 2-D embeddings of the first seed over training; each frame shows the features of the same
# test images, the lines are the directions of the class weights $W_j$.
#
# **Original softmax**
#
# ![original softmax, 2-D features over training](figures/beyond_embedding_2d_original.gif)
#
# **Modified softmax**
#
# ![modified softmax, 2-D features over training](figures/beyond_embedding_2d_modified.gif)
#
# **A-Softmax ($m = 4$, official annealing)**
#
# ![A-Softmax, 2-D features over training](figures/beyond_embedding_2d_angular.gif)
#
# **CosFace (margin sized for 2-D)**
#
# ![CosFace, 2-D features over training](figures/beyond_embedding_2d_cosface.gif)
#
# **ArcFace (margin sized for 2-D)**
#
# ![ArcFace, 2-D features over training](figures/beyond_embedding_2d_arcface.gif)

# %%
for head in head_names:
    run = run_of[groups[showcase[2, head]][0]]
    margin = (
        f", m={run.config.additive_margin:g}"
        if head in ("cosface", "arcface")
        else ""
    )
    animate_embeddings(
        run.snapshots,
        Path(figures_dir) / f"beyond_embedding_2d_{head}.gif",
        title=f"{HEAD_LABELS[head]}{margin}, 2-D",
    )
print(
    "animations written:",
    ", ".join(f"beyond_embedding_2d_{head}.gif" for head in head_names),
)

# %%
chosen = {
    label: run_of[groups[key][0]]
    for (label, d), key in comparison.items()
    if d == 2
}
final_embeddings_figure(
    [run.snapshots for run in chosen.values()],
    [
        f"{label}\naccuracy {run.final_test_accuracy:.4f}"
        for label, run in chosen.items()
    ],
)
plt.show()

# %% [markdown]
# ## 4. Feature norms
#
# A-Softmax's logits are $\|x\|\cos\theta_j$, and so are the modified softmax's: the norm
# multiplies every logit, so a longer feature gives a more confident softmax without changing
# the predicted class, and the loss can lower itself on well-placed training images by
# lengthening their features. CosFace and ArcFace use $s\cos\theta_j$ and ignore $\|x\|$, so
# their confidence is a function of the angles alone.
#
# For each head (first seed; in 2-D CosFace and ArcFace with the margins sized for 2-D) on the
# test set: the norms of correctly and wrongly classified
# features, the error rate and the mean confidence (largest softmax probability of the
# margin-free logits) in ten bins of equal count ordered by norm, and Spearman's rank
# correlation between norm and confidence.

# %% tags=["hide-input"]
norm_data, norm_correlation = {}, {}
rows = []
for dimension in dimensions:
    for head in head_names:
        config = groups[showcase[dimension, head]][0]
        run = run_of[config]
        with torch.no_grad():
            logits = heads_of[config](run.test_features)
        norms = run.test_features.double().norm(dim=1)
        correct = logits.argmax(dim=1) == run.test_labels
        confidence = softmax_confidence(logits)
        bins = bins_by_norm(norms, correct, confidence, num_bins=10)
        norm_data[dimension, head] = (norms, correct, bins)
        norm_correlation[dimension, head] = rank_correlation(norms, confidence)
        wrong = norms[~correct]
        rows.append(
            [
                next(
                    label
                    for (label, _), key in comparison.items()
                    if key == showcase[dimension, head]
                ),
                dimension,
                float(norms[correct].median()),
                "–" if len(wrong) == 0 else f"{float(wrong.median()):.2f}",
                int((~correct).sum()),
                float(bins.error_rate[0]),
                float(bins.error_rate[-1]),
                float(bins.mean_confidence[0]),
                float(bins.mean_confidence[-1]),
                norm_correlation[dimension, head],
            ]
        )
display(
    show_table(
        rows,
        [
            "head",
            "dim",
            "median ‖x‖, correct",
            "median ‖x‖, wrong",
            "errors",
            "error rate, shortest 10 %",
            "error rate, longest 10 %",
            "confidence, shortest 10 %",
            "confidence, longest 10 %",
            "Spearman(‖x‖, confidence)",
        ],
        [
            "{}",
            "{}",
            "{:.2f}",
            "{}",
            "{}",
            "{:.4f}",
            "{:.4f}",
            "{:.3f}",
            "{:.3f}",
            "{:.2f}",
        ],
    )
)

# %% [markdown]
# Top: the distribution of $\|x\|$ relative to its median, for the correctly (filled) and
# wrongly (outline) classified test features, 2-D, first seed. Bottom: the error rate per norm
# bin (from the shortest to the longest tenth) for both dimensions.

# %% tags=["hide-input"]
figure, axes = plt.subplots(
    2,
    len(head_names),
    figsize=(3.4 * len(head_names), 6.4),
    squeeze=False,
    sharey="row",
)
edges = np.linspace(-3, 2, 41)  # log2 of the norm over its median
for column, head in enumerate(head_names):
    norms, correct, _ = norm_data[2, head]
    relative = np.log2((norms / norms.median()).clamp_min(1e-6).numpy())
    ax = axes[0, column]
    ax.hist(
        relative[correct.numpy()],
        bins=edges,
        density=True,
        color=HEAD_COLOURS[head],
    )
    ax.hist(
        relative[~correct.numpy()],
        bins=edges,
        density=True,
        histtype="step",
        color="black",
    )
    ax.set_title(HEAD_LABELS[head], fontsize=10)
    ax.set_xlabel("log2(‖x‖ / median)")
    ax.grid(alpha=0.3)
    ax = axes[1, column]
    for dimension, style in zip(dimensions, ["-", "--"], strict=True):
        bins = norm_data[dimension, head][2]
        ax.plot(
            np.arange(1, len(bins.error_rate) + 1),
            bins.error_rate.numpy(),
            style,
            marker="o",
            markersize=3,
            color=HEAD_COLOURS[head],
            label=f"{dimension}-D",
        )
    ax.set_yscale("symlog", linthresh=0.01)
    ax.set_xlabel("norm bin (1 = shortest 10 %)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
axes[0, 0].set_ylabel("density")
axes[1, 0].set_ylabel("error rate")
figure.tight_layout()
plt.show()

# %% [markdown]
# **What this build measured.** Computed from the table above:

# %%
scaled = [h for h in head_names if h in ("original", "modified", "angular")]
normalised = [h for h in head_names if h in ("cosface", "arcface")]
with_errors = [
    key for key, (_, correct, _) in norm_data.items() if (~correct).any()
]
shorter = [
    key
    for key in with_errors
    if norm_data[key][0][~norm_data[key][1]].median()
    < norm_data[key][0][norm_data[key][1]].median()
]
text = [
    "- Misclassified test features are shorter than correctly classified ones (median norm) "
    f"in {len(shorter)} of the {len(with_errors)} runs with errors."
]
for what, group in (
    ("the heads whose logits scale with ‖x‖", scaled),
    (
        "CosFace and ArcFace, whose confidence depends on the angles only",
        normalised,
    ),
):
    values = [norm_correlation[d, h] for d in dimensions for h in group]
    if values:
        text.append(
            f"- Spearman's correlation of norm and confidence for {what}: "
            f"{min(values):.2f} to {max(values):.2f}."
        )
display(Markdown("\n".join(text)))

# %% [markdown]
# Where the norm-scaled heads show a strong correlation, the norm is what makes them confident:
# a longer feature sharpens every softmax, and the loss rewards it on well-placed images. If
# the misclassified features of CosFace and ArcFace are also shorter, the network gives
# ambiguous digits short features even though their loss ignores the norm.

# %% [markdown]
# ## Cost of this chapter
#
# Training seconds as recorded by the runs themselves (summed over the runs, each on one CPU
# thread when `workers` > 1, so the wall time is lower by about the number of workers). Runs
# that belong to several groups (the $m = 4$ and $m = 1$ sweeps are the A-Softmax and modified
# softmax heads) count once, in the first group that lists them.

# %% tags=["hide-input"]
# The 2-D runs of chapter 2 (its default heads and seeds), trained there when it runs first.
chapter_2 = set(
    grid(
        profile,
        ["original", "modified", "angular"],
        [2],
        [0, 1, 2],
        device=device,
    )
)
counted = set()
rows = []
for section in ["sweep", "heads", "sized", "annealing"]:
    chosen = [
        c
        for key, group in groups.items()
        if key[0] == section
        for c in group
        if c not in counted
    ]
    counted.update(chosen)
    rows.append(
        [
            section,
            len(chosen),
            sum(c in chapter_2 for c in chosen),
            sum(c.epochs for c in chosen),
            sum(run_of[c].record["train_seconds"] for c in chosen),
        ]
    )
rows.append(["all", *(sum(row[i] for row in rows) for i in range(1, 5))])
display(
    show_table(
        rows,
        [
            "section",
            "distinct runs",
            "of them chapter 2's",
            "epochs in all",
            "train seconds (sum over runs)",
        ],
        ["{}", "{}", "{}", "{}", "{:.0f}"],
    )
)
