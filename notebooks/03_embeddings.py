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
# # Embeddings in 2-D and 3-D, animated
#
# With two or three feature dimensions the learned embedding can be looked at directly. Each
# animation below shows the features of the first test images (the same images in every frame)
# and the directions of the ten class weights $W_j$, several times per epoch, from the random
# initialisation to the end of training. The runs are those of the previous chapter (seed 0),
# read back from the cache when that chapter ran first.
#
# What to look for {cite}`liu2017sphereface`:
#
# - **Original softmax** ($W x + b$): classes are separated by hyperplanes that need not pass
#   through the origin; the features spread radially and along the class directions, and
#   their angles are not what decides the class.
# - **Modified softmax** ($\|W_j\| = 1$, $b = 0$): the decision depends only on the angle, so
#   the classes become wedges around their weight direction — but neighbouring wedges touch.
# - **A-Softmax** ($m = 4$): the target class must win with $m$ times its angle, so the wedges
#   shrink towards their weight direction and leave angular gaps between classes.
#
# In 3-D the features are projected onto the unit sphere, where A-Softmax's claim —
# *discriminative on a hypersphere* — can be seen as compact, separated caps.

# %% tags=["parameters"]
profile = "smoke"
seed = 0  # the run shown (and the notebook's own seed)
heads = ["original", "modified", "angular"]
margin = 4
embedding_dims = [2, 3]
net = "mnist_small"  # or "mnist_sphere20", the SphereFace-20 of the reference (much slower)
device = "auto"
figures_dir = "figures"  # GIFs are written here, next to the executed notebook
data_root: str | None = None
cache_dir: str | None = None

# %%
from pathlib import Path

import matplotlib.pyplot as plt

from sphereface_lib.experiments import grid, run_all
from sphereface_lib.plots import HEAD_LABELS, animate_embeddings, scatter_embedding
from sphereface_lib.seeding import seed_everything

seed_everything(seed)
configs = grid(profile, heads, embedding_dims, [seed], margin=margin, device=device, net=net)

# %% tags=["nbval-ignore-output", "remove-output"]
results = run_all(configs, cache_dir, data_root)

# %% [markdown]
# The animations are written as GIF files next to this notebook and shown below through
# ordinary Markdown image links.

# %%
written = []
for result in results:
    config = result.config
    name = f"embedding_{config.embedding_dim}d_{config.head}.gif"
    label = HEAD_LABELS[config.head] + (f" (m={config.margin})" if config.head == "angular" else "")
    animate_embeddings(
        result.snapshots, Path(figures_dir) / name, title=f"{label}, {config.embedding_dim}-D"
    )
    written.append(name)
print(f"{len(written)} animations written:", ", ".join(sorted(written)))

# %% [markdown]
# ## 2-D features over training
#
# Each frame shows the features of the same test images; the lines are the directions of the
# class weights $W_j$.
#
# **Original softmax**
#
# ![original softmax, 2-D features over training](figures/embedding_2d_original.gif)
#
# **Modified softmax**
#
# ![modified softmax, 2-D features over training](figures/embedding_2d_modified.gif)
#
# **A-Softmax**
#
# ![A-Softmax, 2-D features over training](figures/embedding_2d_angular.gif)
#
# ## 3-D features over training, on the unit sphere
#
# The features are divided by their norm, so every point lies on the sphere; the view turns
# slowly so that the caps on the far side come into sight.
#
# **Original softmax**
#
# ![original softmax, 3-D features over training](figures/embedding_3d_original.gif)
#
# **Modified softmax**
#
# ![modified softmax, 3-D features over training](figures/embedding_3d_modified.gif)
#
# **A-Softmax**
#
# ![A-Softmax, 3-D features over training](figures/embedding_3d_angular.gif)

# %% [markdown]
# ## Final embeddings, for print
#
# The last snapshot of each run, with the test accuracy of that run (margin-free logits, on
# the test images of the profile).

# %%
for result in results:
    figure = plt.figure(figsize=(5.6, 4.4))
    dimension = result.config.embedding_dim
    ax = figure.add_subplot(projection="3d" if dimension == 3 else None)
    snapshots = result.snapshots
    title = (
        f"{HEAD_LABELS[result.config.head]}, {dimension}-D\n"
        f"test accuracy {result.final_test_accuracy:.4f}"
    )
    scatter_embedding(
        ax, snapshots.features[-1], snapshots.labels, snapshots.weights[-1], title=title
    )
    figure.tight_layout()
    plt.show()
