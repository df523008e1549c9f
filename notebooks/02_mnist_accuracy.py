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
# # Accuracy and loss on MNIST
#
# The paper's toy experiment {cite}`liu2017sphereface` trains a small network on MNIST with
# two- and three-dimensional features so that the learned embedding can be drawn. The
# TensorFlow reimplementation YunYang1994/SphereFace {cite}`yunyang2018sphereface` reports a
# single test accuracy per head for 2-D features. Here every head is trained on the full
# 60,000-image training set with several seeds and tested on the full 10,000-image test set,
# and the table below is computed from those runs in this build.
#
# What differs from the reference protocol:
#
# - **Test set.** The reference evaluates 20 batches of 512, i.e. 5,120 of the 10,000 test
#   images, and *keeps training on those test batches while it evaluates them* (its test loop
#   runs the training op). Here the network is frozen (evaluation mode, no gradient) and every
#   one of the 10,000 test images counts.
# - **Seeds.** The reference reports one run. A single 2-D run varies by a few tenths of a
#   percent from seed to seed, which is the size of the differences between the heads, so the
#   table reports mean ± standard deviation over seeds, and the best and worst seed.
# - **Training.** The reference trains SphereFace-20 (with Adam, about 17 epochs, margin $m=4$
#   and $\lambda = 0$). This book's default network is a small CNN sized for a CPU
#   (`mnist_small`: three stages of a 3×3 convolution, 2×2 max-pooling, batch normalisation and
#   PReLU, a 64-unit hidden layer, then the linear feature layer), trained with SGD and Nesterov
#   momentum, a warm-up plus cosine learning-rate schedule and gradient-norm clipping, for the
#   epochs the last table lists; A-Softmax uses the $\lambda$ annealing of the official
#   code (base 1000, $\gamma = 0.12$, power 1, $\lambda_{\min} = 5$). The reference's
#   SphereFace-20 is available as the parameter `net = "mnist_sphere20"`; it needs many times
#   the compute per image, and the README reports what it reached.
# - **Accuracy.** Accuracy is always computed on the margin-free logits
#   $\|x\| \cos\theta_j$ (or $W x + b$): the margin is a training device, not part of the
#   classifier.

# %% tags=["parameters"]
profile = "smoke"  # "smoke": a 2,048-image subset and 2 epochs; "full": the published book
seed = 0  # seeds the notebook itself; the runs use `seeds`
seeds: list[int] | None = None  # None: [0, 1] for smoke, [0, 1, 2] for full
heads = ["original", "modified", "angular"]
margin = 4
embedding_dims = [2, 3]
net = "mnist_small"  # or "mnist_sphere20", the SphereFace-20 of the reference (much slower)
device = "auto"
workers = 2  # runs trained in parallel processes (one CPU thread each); 1: one run at a time
data_root: str | None = None  # None: $SPHEREFACE_DATA, else ~/.cache/sphereface/data
cache_dir: str | None = None  # None: $SPHEREFACE_CACHE, else ~/.cache/sphereface/runs

# %%
import matplotlib.pyplot as plt
from IPython.display import display

from sphereface_lib.experiments import (
    ACCURACY_COLUMNS,
    REFERENCE_SOURCE,
    accuracy_rows,
    grid,
    group_by,
    run_all,
    write_run_records,
)
from sphereface_lib.plots import plot_metric
from sphereface_lib.report import show_table
from sphereface_lib.seeding import seed_everything

seed_everything(seed)
if seeds is None:
    seeds = [0, 1] if profile == "smoke" else [0, 1, 2]
configs = grid(profile, heads, embedding_dims, seeds, margin=margin, device=device, net=net)
print(
    f"{len(configs)} runs: {len(heads)} heads x {len(embedding_dims)} dimensions x {len(seeds)} seeds"
)
print(
    f"training images per run: {configs[0].train_limit or 60000}, test images: {configs[0].test_limit or 10000}"
)

# %% [markdown]
# Training goes through the library's train-or-load cache: a configuration that was trained
# before (in this build or an earlier one) is read back from disk instead of retrained. The
# progress bars of this cell are its only output and are left out of the page.

# %% tags=["nbval-ignore-output", "remove-output"]
results = run_all(configs, cache_dir, data_root, workers=workers)

# %% [markdown]
# ## Test accuracy with 2-D features
#
# The last column is the reference reimplementation's single number
# (source: {cite}`yunyang2018sphereface`), under its own protocol described above; it is not a
# result of this book.

# %%
if 2 in embedding_dims:
    display(show_table(accuracy_rows(results, 2), ACCURACY_COLUMNS))
print("reference:", REFERENCE_SOURCE)

# %% [markdown]
# ## Test accuracy with 3-D features
#
# The reference reports no 3-D accuracy.

# %%
if 3 in embedding_dims:
    display(show_table(accuracy_rows(results, 3), ACCURACY_COLUMNS))

# %% [markdown]
# ## Loss and accuracy over training
#
# Mean over seeds, with the band between the best and the worst seed. The training loss is
# the objective that is optimised — for A-Softmax it includes the margin (at the current
# $\lambda$), so it is larger than the plain softmax losses by construction and is not
# comparable across heads. The test accuracy uses margin-free logits for every head.

# %%
for dimension in embedding_dims:
    chosen = [r for r in results if r.config.embedding_dim == dimension]
    by_head = {head: runs for (head,), runs in group_by(chosen, "head").items()}
    figure, axes = plt.subplots(2, 2, figsize=(8.5, 6.4))
    plot_metric(axes[0, 0], by_head, "train_loss", "training loss (with margin)")
    plot_metric(axes[0, 1], by_head, "test_loss", "test loss (with margin)")
    plot_metric(axes[1, 0], by_head, "train_accuracy", "training accuracy")
    plot_metric(axes[1, 1], by_head, "test_accuracy", "test accuracy")
    for ax in axes[1]:  # start the accuracy axes where the curves are, not at 0
        lowest = min(
            row[m]
            for runs in by_head.values()
            for r in runs
            for row in r.metrics
            for m in ("train_accuracy", "test_accuracy")
        )
        ax.set_ylim(max(0.0, lowest - 0.01), 1.0)
    figure.suptitle(f"{dimension}-D features, {len(seeds)} seeds (mean, band: best to worst seed)")
    figure.tight_layout()
    plt.show()

# %% [markdown]
# ## Cost of the runs
#
# Training time per run as recorded by the runs themselves (wall time of the training steps,
# on the hardware named in each run's `result.json`).

# %%
rows = []
for (head, dimension), runs in group_by(results, "head", "embedding_dim").items():
    seconds = [sum(row["train_seconds"] for row in run.metrics) for run in runs]
    rows.append(
        [
            head,
            dimension,
            runs[0].config.epochs,
            sum(seconds) / len(seconds),
            runs[0].record["hardware"]["processor"],
        ]
    )
display(
    show_table(
        rows,
        ["head", "dim", "epochs", "train seconds per run (mean)", "processor"],
        ["{}", "{}", "{}", "{:.0f}", "{}"],
    )
)

# %% [markdown]
# ## The run records
#
# Every run writes a `result.json` with its full configuration (seed included), its metrics
# after every epoch, its timings, the library version and the hardware. The cell below collects
# those of this chapter into one file, {download}`mnist_runs.json <mnist_runs.json>`, so that
# a rerun can be compared with this build line by line.

# %%
records = write_run_records(results, "mnist_runs.json", profile=profile)
print(f"{len(results)} run records written to {records.name}")
