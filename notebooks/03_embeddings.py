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
device = "auto"
figures_dir = "figures"  # GIFs are written here, next to the executed notebook
data_root = None
cache_dir = None

# %%
from pathlib import Path

import matplotlib.pyplot as plt

from sphereface_lib.experiments import grid, run_all
from sphereface_lib.plots import HEAD_LABELS, animate_embeddings, scatter_embedding
from sphereface_lib.seeding import seed_everything

seed_everything(seed)
configs = grid(profile, heads, embedding_dims, [seed], margin=margin, device=device)

# %% tags=["nbval-ignore-output"]
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
# | original softmax | modified softmax | A-Softmax |
# | :---: | :---: | :---: |
# | ![original softmax, 2-D](figures/embedding_2d_original.gif) | ![modified softmax, 2-D](figures/embedding_2d_modified.gif) | ![A-Softmax, 2-D](figures/embedding_2d_angular.gif) |
#
# ## 3-D features over training, on the unit sphere
#
# | original softmax | modified softmax | A-Softmax |
# | :---: | :---: | :---: |
# | ![original softmax, 3-D](figures/embedding_3d_original.gif) | ![modified softmax, 3-D](figures/embedding_3d_modified.gif) | ![A-Softmax, 3-D](figures/embedding_3d_angular.gif) |

# %% [markdown]
# ## Final embeddings, for print
#
# The last snapshot of each run, with the test accuracy of that run (margin-free logits, on
# the test images of the profile).

# %%
for dimension in embedding_dims:
    chosen = [r for r in results if r.config.embedding_dim == dimension]
    figure = plt.figure(figsize=(4.6 * len(chosen) + 0.8, 4.4))
    for index, result in enumerate(chosen):
        ax = figure.add_subplot(
            1, len(chosen), index + 1, projection="3d" if dimension == 3 else None
        )
        snapshots = result.snapshots
        title = f"{HEAD_LABELS[result.config.head]}\ntest accuracy {result.final_test_accuracy:.4f}"
        scatter_embedding(
            ax,
            snapshots.features[-1],
            snapshots.labels,
            snapshots.weights[-1],
            title=title,
            legend=index == len(chosen) - 1,
        )
    figure.tight_layout()
    plt.show()
