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
# # Open-set digits: features for classes never seen
#
# SphereFace's thesis is about *open-set* recognition {cite}`liu2017sphereface` (its Section 1
# and Fig. 1): a face network is trained to classify the people of a training set, but it is
# used to compare people it has never seen, so what matters is whether its *features* separate
# new identities. The MNIST chapters test closed-set accuracy — the test digits are the
# training classes — where every head lands within a few tenths of a percent of the others.
# This chapter runs the paper's protocol in miniature, with error bars from several seeds:
#
# - **Training**: the digits 0–5 only ({glue:text}`train_images` MNIST training images), with
#   the heads of the paper's Table 3: the original softmax and A-Softmax with $m = 1$ (the
#   modified softmax) to 4; {glue:text}`seed_count` seeds each, with 2-D features (drawable)
#   and {glue:text}`high_dim`-D features.
# - **Verification**: pairs of the test images of the unseen digits 6–9, scored by the cosine of
#   their features and thresholded in two folds that share no digit ({glue:text}`folds`), under
#   the official and the plain protocol of chapter 6 — LFW's protocol, with digits for people.
#   {glue:text}`pair_count` pairs, half of them of one digit; digits are not mirrored, so a
#   feature is the network's output alone.
#
# A-Softmax keeps the official annealing curve's shape and reaches its floor $\lambda = 5$ at
# 40 % of each run, as the face runs do.

# %% tags=["parameters", "hide-input"]
profile = (
    "smoke"  # "smoke": 2,048 images, 2 epochs; "full": the published book
)
seeds: list[int] | None = None  # None: [0, 1] (smoke), [0, 1, 2] (full)
dimensions = [2, 16]  # the feature dimensions of the runs
pairs_per_fold: int | None = None  # None: 200 (smoke), 2,000 (full)
device = "auto"
workers = 2  # runs trained in parallel processes (one CPU thread each)
data_root: str | None = None  # None: $SPHEREFACE_DATA
cache_dir: str | None = None  # None: $SPHEREFACE_CACHE

# %% tags=["hide-input"]
import statistics

import torch
from IPython.display import display
from sphereface_lib.analysis.claims import (
    comparison_verdict,
    describe,
    difference,
    rising_verdict,
)
from sphereface_lib.book.animation import embedding_still
from sphereface_lib.book.chapters import open_set_settings
from sphereface_lib.book.experiments import run_all
from sphereface_lib.book.open_set import (
    OPEN_SET_TRAIN_IMAGES,
    open_set_configs,
    verify_unseen_digits,
)
from sphereface_lib.book.pages import (
    glue_figure,
    glue_value,
    head_name,
    join_names,
    percent,
    use_book_style,
)
from sphereface_lib.book.report import show_table
from sphereface_lib.common.seeding import seed_everything
from sphereface_lib.data.training_sets import load_training_data
from sphereface_lib.training import embed

seed_everything(0)
use_book_style()
settings = open_set_settings(profile, seeds, dimensions, pairs_per_fold)
configs = open_set_configs(settings, device=device)
runs = run_all(configs, cache_dir, data_root, workers=workers)
results = {
    config: verify_unseen_digits(run, settings, data_root, device="cpu")
    for config, run in zip(configs, runs, strict=True)
}
names = {
    (head, margin): "A-Softmax (m=1): modified softmax"
    if head == "modified"
    else head_name(head, margin)
    for head, margin in settings.sweep
}
glue_value(
    "train_images", f"{configs[0].train_limit or OPEN_SET_TRAIN_IMAGES:,}"
)
glue_value("seed_count", len(settings.seeds))
glue_value("high_dim", max(settings.dimensions))
glue_value(
    "folds",
    join_names([" and ".join(map(str, fold)) for fold in settings.folds]),
)
glue_value("pair_count", f"{len(settings.folds) * settings.pairs_per_fold:,}")


def per_seed(
    head: str, margin: int | None, dimension: int, what: str
) -> list[float]:
    """One value per seed of a cell of the sweep: official or plain accuracy, or closed-set."""
    values = []
    for config, result in results.items():
        same_margin = config.head != "angular" or config.margin == margin
        if (
            config.head == head
            and same_margin
            and config.embedding_dim == dimension
        ):
            values.append(
                result.closed_set_accuracy
                if what == "closed"
                else getattr(result, what).mean
            )
    return values


def cell(values: list[float]) -> str:
    spread = (
        f" ± {percent(statistics.stdev(values))}" if len(values) > 1 else ""
    )
    return f"{percent(statistics.fmean(values))}{spread}"


# %% [markdown]
# ## Verification of the unseen digits
#
# Mean ± standard deviation over the seeds; the last column is the closed-set accuracy on the
# test images of the trained digits 0–5, for comparison.

# %% tags=["hide-input"]
for dimension in settings.dimensions:
    rows = [
        [
            names[head, margin],
            cell(per_seed(head, margin, dimension, "official")),
            cell(per_seed(head, margin, dimension, "plain")),
            cell(per_seed(head, margin, dimension, "closed")),
        ]
        for head, margin in settings.sweep
    ]
    display(
        show_table(
            rows,
            [
                f"head ({dimension}-D features)",
                "unseen, official (%)",
                "unseen, plain (%)",
                "seen 0–5 (%)",
            ],
        )
    )

# %% [markdown]
# {glue:text}`open_set_sentence`

# %% tags=["hide-input"]
sentences = []
for dimension in settings.dimensions:
    angular = per_seed("angular", 4, dimension, "official")
    original = per_seed("original", None, dimension, "official")
    by_margin = [
        per_seed(head, margin, dimension, "official")
        for head, margin in settings.sweep
        if head != "original"
    ]
    sentences.append(
        f"With {dimension}-D features, A-Softmax (m=4) against the original "
        f"softmax on the unseen digits: "
        f"{describe(difference(angular, original))}, verdict "
        f"'{comparison_verdict(angular, original)}'; accuracy rising with m "
        f"from 1 to 4: '{rising_verdict(by_margin, quantitative=False)}'."
    )
glue_value("open_set_sentence", " ".join(sentences))

# %% [markdown]
# The verdicts follow the rule of the Claims page ({doc}`08_claims`): a difference counts
# when it exceeds two standard errors over the seeds.
#
# ## Where the unseen digits land
#
# {numref}`fig-open-original` to {numref}`fig-open-angular` draw the 2-D test features of the
# first seed: the trained digits 0–5 with their class-weight directions, and the unseen digits
# 6–9, which have no class weight of their own. Open-set verification needs the unseen digits
# to gather in directions of their own rather than spread over the trained classes' wedges.

# %% tags=["hide-input"]
test_set = load_training_data("mnist_open", data_root, test_limit=600)
first_seed = min(settings.seeds)
for head, margin in (("original", None), ("modified", 1), ("angular", 4)):
    config, run = next(
        (config, run)
        for config, run in zip(configs, runs, strict=True)
        if config.head == head
        and (head != "angular" or config.margin == margin)
        and config.embedding_dim == 2
        and config.seed == first_seed
    )
    result = results[config]
    net, classifier = run.load_model()
    seen = embed(net, test_set.test_images, torch.device("cpu")).cpu()
    features = [seen, result.held_out_features[:400]]
    labels = [test_set.test_labels, result.held_out_labels[:400]]
    figure = embedding_still(
        torch.cat(features),
        torch.cat(labels),
        classifier.weight.detach().cpu(),
        f"{names[head, margin].split(':')[0]}, 2-D",
        class_names=[str(digit) for digit in range(10)],
        legend_title="digit (6–9 never seen in training)",
        label=f"unseen: {percent(result.official.mean)} % (official)",
    )
    glue_figure(f"open-{head}", figure)

# %% [markdown]
# ````{container} full-width animation-row
# ```{glue:figure} open-original
# :name: fig-open-original
# :alt: 2-D features of the original softmax trained on digits 0 to 5: the trained digits spread in radial clusters along their class-weight rays, and the unseen digits 6 to 9 fall among them.
#
# Original softmax: the unseen digits among the trained ones.
# ```
# ```{glue:figure} open-modified
# :name: fig-open-modified
# :alt: 2-D features of the modified softmax trained on digits 0 to 5: wedges around the six class-weight rays, the unseen digits falling into and between the wedges.
#
# Modified softmax ($m = 1$).
# ```
# ```{glue:figure} open-angular
# :name: fig-open-angular
# :alt: 2-D features of A-Softmax with m = 4 trained on digits 0 to 5: six thin spokes along the class weights, and the unseen digits 6 to 9 in the gaps between them.
#
# A-Softmax ($m = 4$).
# ```
# ````
