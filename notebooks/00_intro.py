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
# # SphereFace, reproduced
#
# This book reruns and explains *SphereFace: Deep Hypersphere Embedding for Face Recognition*
# {cite}`liu2017sphereface` — the paper that introduced the **angular softmax (A-Softmax)** loss —
# from its mathematics to its experiments, with code you can rerun on a laptop. Every table and
# figure is computed by the chapter that shows it, from the `sphereface_lib` library, in the build
# that published the page; numbers quoted from the paper or from other implementations are
# labelled with their source.

# %% tags=["parameters", "hide-input"]
profile: str = "smoke"  # "smoke": CI's quick book; "full": the published book
seeds: list[int] | None = None  # None: the seeds of chapter 2
net: str = "mnist_small"  # or "mnist_sphere20", the reference's residual net
device: str = "auto"
workers: int = 2  # runs trained in parallel processes (one CPU thread each)
data_root: str | None = None  # None: $SPHEREFACE_DATA
cache_dir: str | None = None  # None: $SPHEREFACE_CACHE

# %% tags=["hide-input"]
from IPython.display import display
from sphereface_lib.book.chapters import MNIST_HEADS, intro_settings
from sphereface_lib.book.experiments import (
    reference_accuracy,
    run_all,
    summarize,
)
from sphereface_lib.book.pages import (
    glue_animation,
    glue_value,
    percent,
    run_label,
)
from sphereface_lib.book.report import show_table
from sphereface_lib.book.sources import REFERENCE_SOURCE
from sphereface_lib.common.seeding import seed_everything

seed_everything(0)
settings = intro_settings(profile, seeds=seeds, net=net, device=device)
results = run_all(settings.configs, cache_dir, data_root, workers=workers)

# %% [markdown]
# ## The headline: three softmax formulations on MNIST
#
# The TensorFlow reimplementation YunYang1994/SphereFace {cite}`yunyang2018sphereface` shows, in
# its README, one test accuracy for each of the paper's three formulations with 2-D features,
# and an animation of each embedding. This book measures the same: each head trained with
# {glue:text}`seed_count` seeds on {glue:text}`train_images` MNIST training images and tested on
# {glue:text}`test_images` test images, in this build. {glue:text}`headline_sentence`

# %% tags=["hide-input"]
by_head = {
    head: [r for r in results if r.config.head == head] for head in MNIST_HEADS
}
summaries = {head: summarize(runs) for head, runs in by_head.items()}
rows = []
for head, runs in by_head.items():
    summary = summaries[head]
    reference = reference_accuracy(runs[0].config)
    spread = f" ± {percent(summary.std)}" if summary.count > 1 else ""
    rows.append(
        [
            run_label(runs[0].config),
            f"{percent(summary.mean)}{spread}",
            "–" if reference is None else percent(reference),
        ]
    )
display(
    show_table(
        rows,
        [
            "head (2-D features)",
            "test accuracy (%), this book",
            "reference (%)",
        ],
        source=f"Reference column: {REFERENCE_SOURCE}.",
    )
)

best = max(summaries, key=lambda head: summaries[head].mean)
names = {head: run_label(runs[0].config) for head, runs in by_head.items()}
angular, original = summaries["angular"], summaries["original"]
gap = angular.mean - original.mean
glue_value("seed_count", len(settings.seeds))
glue_value("train_images", f"{settings.configs[0].train_limit or 60_000:,}")
glue_value("test_images", f"{results[0].record['test_images']:,}")
glue_value(
    "headline_sentence",
    f"The most accurate head of this build is {names[best]} "
    f"({percent(summaries[best].mean)} % on average); A-Softmax is "
    f"{percent(abs(gap))} points {'above' if gap >= 0 else 'below'} the original softmax, "
    f"{'more' if abs(gap) > 2 * max(angular.std, original.std) else 'not more'} than twice "
    "the larger of their seed-to-seed standard deviations.",
)

# %% [markdown]
# The reference column is that project's own result, one run per head under its own protocol,
# not a result of this book; {doc}`02_mnist_accuracy` explains the differences and shows the 3-D
# results, the training curves and the cost of every run.
#
# ````{container} full-width animation-row
# ```{glue:figure} anim-original
# :name: fig-headline-original
# :alt: Animation of 2-D MNIST test features trained with the original softmax. The ten digit classes, each with its own colour and marker, spread out from the centre into radial clusters of different lengths, with the class-weight directions drawn as rays.
#
# Original softmax: $W_j^\top x + b_j$.
# ```
# ```{glue:figure} anim-modified
# :name: fig-headline-modified
# :alt: Animation of 2-D MNIST test features trained with the modified softmax. The ten digit classes grow into wedges around their class-weight rays, neighbouring wedges touching each other.
#
# Modified softmax: $\|x\|\cos\theta_j$.
# ```
# ```{glue:figure} anim-angular
# :name: fig-headline-angular
# :alt: Animation of 2-D MNIST test features trained with A-Softmax, m = 4. The ten digit classes contract into thin spokes along their class-weight rays, with empty angular gaps between neighbouring classes.
#
# A-Softmax ($m = 4$): $\|x\|\psi(\theta_y)$ for the target class.
# ```
# ````
#
# The 2-D test features of the first seed over training, one frame per snapshot; chapter 3
# ({doc}`03_embeddings`) shows the 3-D features on the sphere as well.

# %% tags=["hide-input"]
for head, runs in by_head.items():
    first = min(runs, key=lambda run: run.config.seed)
    title = f"{run_label(first.config)}, 2-D"
    glue_animation(f"anim-{head}", first.snapshots, title)

# %% [markdown]
# ## What the paper claims
#
# A face recognition network maps an image to a feature vector $x$; two faces are compared by the
# angle between their features. Trained with the ordinary softmax loss, such a network learns
# features that are *separable* but not *discriminative*: the class of a training image is
# decided by $W_j^\top x + b_j$, which mixes the feature's norm, the weight norms and the biases,
# and nothing pushes features of one identity closer together in angle than to other identities.
#
# The paper makes three changes, one after the other:
#
# 1. **Modified softmax.** Normalise every class weight, $\|W_j\| = 1$, and drop the biases. The
#    logit becomes $\|x\| \cos\theta_j$, and the decision between two classes depends only on the
#    angles $\theta_j$ between $x$ and the class weights.
# 2. **Angular margin.** For the target class $y$, replace $\cos\theta_y$ by
#    $\psi(\theta_y) = (-1)^k \cos(m\theta_y) - 2k$, $k = \lfloor m\theta_y/\pi \rfloor$: the
#    target class must win *with $m$ times its angle*. The decision regions of the classes shrink
#    towards their weight vectors and an angular gap opens between them.
# 3. **How large must $m$ be?** The paper's Properties 2 and 3 (Section 3.4) show that
#    $m \ge 2 + \sqrt{3}$ for two classes, and $m \ge 3$ for many classes *whose weights are
#    uniformly spaced*, make the largest angle within a class smaller than the smallest angle
#    between classes; the paper uses $m = 4$.
#
# With a 64-layer residual network trained on CASIA-WebFace, the paper reports 99.42 % on the
# LFW verification benchmark (its Table 4). That number is the paper's; this book does not have
# the data or the GPUs to retrain it, and says what it would take.
#
# ## How to read this book
#
# - **{doc}`08_claims`** lists the paper's claims with the evidence of this build and a verdict
#   for each — the short answer to "does SphereFace do what the paper says?".
# - **{doc}`01_softmax_formulations`** derives the three formulations with SymPy:
#   decision boundaries, $\psi$ and its properties, the minimal margins — and checks each result
#   against the library's implementation.
# - **{doc}`02_mnist_accuracy`** trains the three heads on MNIST with 2-D and 3-D
#   features, several seeds, the full test set, and compares with the reference reimplementation.
# - **{doc}`03_embeddings`** animates the learned 2-D and 3-D features over training.
# - **{doc}`04_sphereface_nets`** takes apart SphereFace-4 to 64.
# - **{doc}`05_beyond`** goes beyond the reference: margins $m = 1 \dots 5$, the
#   $\lambda$ annealing of the official code, CosFace and ArcFace side by side, angle statistics
#   and feature norms.
# - **{doc}`06_faces`** trains SphereFace networks on real faces, verifies them with the
#   official LFW protocol (and on AT&T/ORL), and runs the paper's margin sweep (its Table 3) on
#   faces.
# - **{doc}`07_open_set`** tests the paper's open-set thesis in miniature: networks trained on
#   the digits 0–5 verify pairs of the unseen digits 6–9.
# - {doc}`../scale_out` trains on many GPUs and machines with `torchrun`.
# - {doc}`../rerun` explains how to rebuild any chapter with your own parameters.
#
# Equation, section and table numbers refer to the arXiv version of the paper
# ([1704.08063v4](https://arxiv.org/abs/1704.08063v4)); the official Caffe code
# {cite}`liu2017code` is cited where the book follows it rather than the paper.
