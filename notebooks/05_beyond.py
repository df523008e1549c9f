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
# **Cost.** With the default parameters the full profile uses 26 runs (117 epochs of 60,000
# images). Five of them (40 epochs) are chapter 2's; the other 21 runs (77 epochs) took about
# 16 minutes on two otherwise idle CPU cores, two runs at a time with one thread each, and the
# rest of the notebook (angles, figures, animations) under a minute. The smoke profile takes
# under a minute. The last section lists the seconds each part of the chapter recorded.

# %% tags=["parameters"]
profile = "smoke"  # "smoke": 2,048 training images and 2 epochs per run; "full": the book
seed = 0  # seeds the notebook itself; the runs use `seeds`
seeds = None  # None: [0] for smoke, [0, 1] for full: the high_dim sweep, m 1 and 4 in 2-D
new_seeds = None  # None: the first of `seeds`: 2-D runs that chapter 2 does not train
margins = None  # A-Softmax margins m; None: 1 to 5 (full) or [1, 4] (smoke); m of 1 is modified
high_dim = 32  # the second feature dimension
high_dim_epochs = 1
high_dim_annealing = False  # False: A-Softmax without annealing (lambda 0) in high_dim
scale = 16.0  # s of CosFace and ArcFace
cosface_margin = 0.35  # CosFace: s (cos theta - m), the CosFace paper's m
arcface_margin = 0.5  # ArcFace: s cos(theta + m), the ArcFace paper's m (radians)
sized_margins = {"cosface": 0.06, "arcface": 0.2}  # 2-D margins, boundary near 12.5 degrees
paper_margins_in_2d = False  # True: also the papers' margins in 2-D (2 runs of 8 epochs more)
anneal_margin = 4  # the A-Softmax margin of the annealing comparison
fixed_lambda = 5.0  # lambda held constant from the first step (the official floor)
lambda_floors = [0.0]  # floors of the official schedule besides its own 5
quantile = 0.99  # robust angle statistics ignore the 1 % of features furthest from their class
convergence_accuracy = 0.9  # "converged": this accuracy on the snapshot images
device = "auto"
workers = 2  # runs trained in parallel processes (one CPU thread each)
data_root = None  # None: $SPHEREFACE_DATA, else ~/.cache/sphereface/data
cache_dir = None  # None: $SPHEREFACE_CACHE, else ~/.cache/sphereface/runs
figures_dir = "figures"  # GIFs are written here, next to the executed notebook

# %%
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display

from sphereface_lib.angles import (
    angular_margins,
    class_angles,
    margin_boundary_angle,
    summarize_angles,
)
from sphereface_lib.experiments import grid, run_all, summarize
from sphereface_lib.norms import bins_by_norm, rank_correlation, softmax_confidence
from sphereface_lib.plots import (
    CLASS_COLOURS,
    HEAD_COLOURS,
    HEAD_LABELS,
    animate_embeddings,
    final_embeddings_figure,
    plot_class_angles,
)
from sphereface_lib.report import show_table
from sphereface_lib.seeding import seed_everything
from sphereface_lib.train import lambda_at

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
    "cosface": {"scale": float(scale), "additive_margin": float(cosface_margin), **no_annealing},
    "arcface": {"scale": float(scale), "additive_margin": float(arcface_margin), **no_annealing},
}
# In 2-D A-Softmax uses the official annealing (the runs of chapter 2). The official schedule
# needs 3.5 epochs to reach its floor, so the short high-dimensional runs train without it.
annealing_of = {2: {}, high_dim: {} if high_dim_annealing else no_annealing}
angular_label = {
    dimension: "A-Softmax, m=4, " + ("official annealing" if not extra else "λ = 0")
    for dimension, extra in annealing_of.items()
}
groups = {}
for dimension in dimensions:
    options = {"device": device, **({} if dimension == 2 else {"epochs": high_dim_epochs})}
    for margin in margins:
        head, extra = ("modified", {}) if margin == 1 else ("angular", {"margin": margin})
        extra = {**extra, **annealing_of[dimension]} if head == "angular" else extra
        # In 2-D, m = 1 and m = 4 are chapter 2's runs: their seeds cost nothing here.
        run_seeds = new_seeds if dimension == 2 and margin not in (1, 4) else seeds
        groups["sweep", dimension, margin] = grid(
            profile, [head], [dimension], run_seeds, **options, **extra
        )
    for head, extra in head_options.items():
        if dimension == 2 and head in ("cosface", "arcface") and not paper_margins_in_2d:
            continue
        extra = {**extra, **annealing_of[dimension]} if head == "angular" else extra
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
    **{f"official, floor {floor:g}": {"lambda_min": float(floor)} for floor in lambda_floors},
}
for name, extra in annealing_variants.items():
    groups["annealing", name] = grid(
        profile, ["angular"], [2], new_seeds, margin=anneal_margin, device=device, **extra
    )
configs = list(dict.fromkeys(config for group in groups.values() for config in group))
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

# %%
run_of = dict(zip(configs, results, strict=True))
strict_angles, robust_angles, heads_of = {}, {}, {}
for config, run in run_of.items():
    heads_of[config] = run.load_model()[1]
    weights = heads_of[config].weight.detach()
    strict_angles[config] = class_angles(run.test_features, run.test_labels, weights, 1.0)
    robust_angles[config] = class_angles(run.test_features, run.test_labels, weights, quantile)
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
ANGLE_FORMATS = ["{}", "{}", "{}", "{:.1f}", "{:.1f}", "{:.1f}", "{:.1f}", "{:.1f}"]
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
# cost; the other margins, 8 epochs each, use `new_seeds` (the first seed). In 32-D every
# margin uses `seeds`.

# %%
for dimension in dimensions:
    rows = []
    for margin in margins:
        group = groups["sweep", dimension, margin]
        final_lambda = run_of[group[0]].metrics[-1]["lambda"]
        between = math.radians(summarize_angles([robust_angles[c] for c in group]).between_weights)
        boundary = math.degrees(margin_boundary_angle(between, margin, final_lambda))
        rows.append([margin, final_lambda, boundary, *rows_of["sweep", dimension, margin]])
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
figure, axes = plt.subplots(1, len(dimensions), figsize=(6.5 * len(dimensions), 4.2))
for ax, dimension in zip(np.atleast_1d(axes), dimensions, strict=True):
    plot_class_angles(
        ax,
        [str(margin) for margin in margins],
        [robust_angles[groups["sweep", dimension, margin][0]] for margin in margins],
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
# **What the full profile measured.** In 2-D the test accuracy moves by about 0.2 percentage
# points across $m$, not much more than the spread between seeds: $m = 4$ is best (0.9920,
# against 0.9897 without a margin), and the robust intra-class angle shrinks from about $18°$
# ($m = 1$) to about $15°$ ($m = 4, 5$). The quarter-angle criterion holds for at most two of
# the ten classes, for every $m$: with $\lambda = 5$ at the end of the official schedule even
# $m = 5$ puts its boundary at about $11°$, more than the $8.5°$ that a quarter of the $34°$
# between neighbouring weights allows. The argument for $m \ge 3$ is about pure A-Softmax
# ($\lambda = 0$); the recipe that makes the 2-D training converge (next section) keeps the
# effective margin below it. In 32-D without annealing, one epoch brings every $m$ above 98 %,
# but accuracy falls as $m$ grows (0.9908 for $m = 1$, 0.9804 for $m = 5$): a larger margin is
# a harder objective, and one epoch is short. What $m$ does change within that epoch is the
# class weights: from $m = 1$ to $m = 4$ their angle to the nearest other weight grows from
# about $79°$ to $88°$ (orthogonal weights are $90°$ apart), while the features have not yet
# tightened around them; $m = 5$, the hardest objective, is back at $79°$ after one epoch, with
# the largest spread between its two seeds.

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
# - **other floors** of the same schedule. With power 1 the schedule decays slowly: reaching
#   $\lambda = 5$ takes 1,658 steps (3.5 epochs of 60,000 images at batch 128), and floor 0
#   ends at $\lambda \approx 2.2$ after 8 epochs (3,752 steps), not at 0.
#
# "Converged" below is the first snapshot (four per epoch) at which the angle classifier
# reaches `convergence_accuracy` on the snapshot images; in the smoke profile (32 steps in
# all) the schedule never leaves its softmax phase and nothing converges.

# %%
names = list(annealing_variants)
anneal_runs = {name: run_of[groups["annealing", name][0]] for name in names}
snapshot_curves = {}
for name, run in anneal_runs.items():
    snapshots = run.snapshots
    accuracy = [
        float((angular_margins(features, snapshots.labels, weights) > 0).double().mean())
        for features, weights in zip(snapshots.features, snapshots.weights, strict=True)
    ]
    intra = [
        math.degrees(
            float(torch.nanmean(class_angles(features, snapshots.labels, weights, quantile).intra))
        )
        for features, weights in zip(snapshots.features, snapshots.weights, strict=True)
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
            "not reached" if len(reached) == 0 else f"{epochs[reached[0]]:.2f}",
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
        ["{}", "{:.2f}", "{:.2f}", "{:.3f}", "{:.3f}", "{}", "{:.3g}", *ANGLE_FORMATS[2:]],
    )
)

# %% [markdown]
# Top left: $\lambda$ over the steps of each schedule. Top right: accuracy of the angle
# classifier on the snapshot images over training. Bottom left: the robust intra-class angle
# (mean over classes) on the same images; where the margin takes hold, it shrinks. Bottom
# right: the median feature norm $\|x\|$ of the same images.

# %%
figure, axes = plt.subplots(2, 2, figsize=(11, 7.2))
axes = axes.ravel()
line_colours = dict(zip(names, CLASS_COLOURS[4:] + CLASS_COLOURS[:4], strict=False))
line_styles = dict(zip(names, ["-", "--", "-.", ":"] * 3, strict=False))
for name, run in anneal_runs.items():
    total_steps = int(run.metrics[-1]["step"])
    steps = np.arange(0, total_steps + 1, max(1, total_steps // 400))
    lambdas = [lambda_at(run.config, int(step)) for step in steps]
    axes[0].plot(steps, lambdas, line_styles[name], color=line_colours[name], label=name)
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
    [f"{name}\naccuracy {run.final_test_accuracy:.4f}" for name, run in anneal_runs.items()],
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
# **What the full profile measured.** Plain A-Softmax ($\lambda = 0$ from the first step) does
# not converge in 2-D: after 8 epochs its test accuracy is 0.62 and its training loss still
# 1.66, and the embedding has collapsed onto a few directions shared by several digits (the
# angle between a class weight and its nearest neighbour is $20°$ on average, against $34°$ in
# the other runs). The first steps show why. For a typical angle at initialisation, say
# $\theta_y = 90°$, $\psi(\theta_y) = -3$ when $m = 4$, so the target logit is $-3\|x\|$ and
# the loss is smallest for $\|x\| \to 0$: the features shrink towards the origin (median norm
# 6.7 at the end, against about 34 with annealing), where the logits barely depend on the
# angles. Every variant with $\lambda \ge 2$ converges. The official schedule reaches 90 % on
# the snapshot images after 0.75 epochs, a fixed $\lambda = 5$ after 0.5 epochs, and all three
# end within 0.0004 of each other (0.9918 to 0.9922). So with this network and optimiser, the
# softmax start at $\lambda = 1000$ is not what makes the recipe work; the floor is. Lowering
# the floor to 0 ($\lambda$ ends at 2.2) gives the tightest classes (robust intra-class angle
# $13.0°$, against $15.5°$ with the official floor).

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
# $\theta_y < 3.7°$. When this chapter was written, 8 epochs (seed 0) with these margins reached
# a test accuracy of 0.79 (CosFace) and 0.21 (ArcFace); set `paper_margins_in_2d = True` to
# train them again and add them to the table. The 2-D rows therefore use margins sized to the
# circle (`sized_margins`): CosFace $m = 0.06$ and ArcFace $m = 0.2$ put the boundary to a
# neighbour $36°$ away at about $12.4°$ and $12.3°$ from the class weight, close to the $12.7°$
# of A-Softmax ($m = 4$) at $\lambda = 5$. A-Softmax uses the official annealing in 2-D and
# $\lambda = 0$ in 32-D, as in the margin sweep; the 2-D table also repeats the $\lambda = 0$
# run of the annealing section.

# %%
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
            comparison[f"A-Softmax, m={anneal_margin}, λ = 0", 2] = ("annealing", zero_lambda)
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
rows = [[label, dimension, *rows_of[key]] for (label, dimension), key in comparison.items()]
display(show_table(rows, ["head", "dim", *ANGLE_COLUMNS], ["{}", "{}", *ANGLE_FORMATS]))

# %%
figure, axes = plt.subplots(len(dimensions), 1, figsize=(13, 4.4 * len(dimensions)))
for ax, dimension in zip(np.atleast_1d(axes), dimensions, strict=True):
    chosen = {label: key for (label, d), key in comparison.items() if d == dimension}
    plot_class_angles(
        ax,
        [label.replace(", ", ",\n").replace(" (", "\n(") for label in chosen],
        [robust_angles[groups[key][0]] for key in chosen.values()],
        title=f"{dimension}-D features, first seed",
    )
figure.tight_layout()
plt.show()

# %% [markdown]
# **What the full profile measured.** With margins sized for the circle, CosFace and ArcFace
# train well in 2-D (0.9879 and 0.9894), between the modified softmax and A-Softmax; these are
# single seeds, and the differences are within the spread seen in the margin sweep. Their
# classes are not tighter than A-Softmax's ($20°$ against $15.5°$). In 32-D after one epoch
# with the papers' margins they are the most accurate heads (0.9913 and 0.9917, against
# 0.9863 to 0.9900 for the others), and ArcFace has by far the tightest classes (robust
# intra-class angle $37°$, against $48°$ to $57°$).

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
    margin = f", m={run.config.additive_margin:g}" if head in ("cosface", "arcface") else ""
    animate_embeddings(
        run.snapshots,
        Path(figures_dir) / f"beyond_embedding_2d_{head}.gif",
        title=f"{HEAD_LABELS[head]}{margin}, 2-D",
    )
print("animations written:", ", ".join(f"beyond_embedding_2d_{head}.gif" for head in head_names))

# %%
chosen = {label: run_of[groups[key][0]] for (label, d), key in comparison.items() if d == 2}
final_embeddings_figure(
    [run.snapshots for run in chosen.values()],
    [f"{label}\naccuracy {run.final_test_accuracy:.4f}" for label, run in chosen.items()],
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

# %%
norm_data = {}
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
                rank_correlation(norms, confidence),
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
        ["{}", "{}", "{:.2f}", "{}", "{}", "{:.4f}", "{:.4f}", "{:.3f}", "{:.3f}", "{:.2f}"],
    )
)

# %% [markdown]
# Top: the distribution of $\|x\|$ relative to its median, for the correctly (filled) and
# wrongly (outline) classified test features, 2-D, first seed. Bottom: the error rate per norm
# bin (from the shortest to the longest tenth) for both dimensions.

# %%
figure, axes = plt.subplots(
    2, len(head_names), figsize=(3.4 * len(head_names), 6.4), squeeze=False, sharey="row"
)
edges = np.linspace(-3, 2, 41)  # log2 of the norm over its median
for column, head in enumerate(head_names):
    norms, correct, _ = norm_data[2, head]
    relative = np.log2((norms / norms.median()).clamp_min(1e-6).numpy())
    ax = axes[0, column]
    ax.hist(relative[correct.numpy()], bins=edges, density=True, color=HEAD_COLOURS[head])
    ax.hist(relative[~correct.numpy()], bins=edges, density=True, histtype="step", color="black")
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
# **What the full profile measured.** For the heads whose logits scale with $\|x\|$ (original,
# modified and A-Softmax), misclassified test digits have much shorter features (2-D A-Softmax:
# median norm 6.6 against 34.5 for the correct ones); the shortest tenth holds 7 % errors and
# the longest 0.2 %, and norm and confidence are rank-correlated at 0.77 to 0.85. CosFace and
# ArcFace take their confidence from the angles only, and in 2-D its rank correlation with the
# norm is about 0. Their misclassified features are nevertheless shorter too (CosFace 8.6
# against 26.0): the network gives ambiguous digits short features although this loss does
# not ask for it. A-Softmax without annealing in 32-D is the extreme case: the median norm of
# its wrong features is 1.1 against 9.0, and norm and confidence are rank-correlated at 1.00.

# %% [markdown]
# ## Cost of this chapter
#
# Training seconds as recorded by the runs themselves (summed over the runs, each on one CPU
# thread when `workers` > 1, so the wall time is lower by about the number of workers). Runs
# that belong to several groups (the $m = 4$ and $m = 1$ sweeps are the A-Softmax and modified
# softmax heads) count once, in the first group that lists them.

# %%
# The 2-D runs of chapter 2 (its default heads and seeds), trained there when it runs first.
chapter_2 = set(grid(profile, ["original", "modified", "angular"], [2], [0, 1, 2], device=device))
counted = set()
rows = []
for section in ["sweep", "heads", "sized", "annealing"]:
    chosen = [
        c for key, group in groups.items() if key[0] == section for c in group if c not in counted
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
