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
# animation below shows the features of the same {glue:text}`snapshot_points` test images and the
# directions of the ten class weights $W_j$ in {glue:text}`frame_count` frames, from the random
# initialisation to the end of training, with the epoch on every frame. The runs are those of
# chapter 2 ({doc}`02_mnist_accuracy`), seed {glue:text}`seed`, read back from the cache.
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
# *discriminative on a hypersphere* — can be seen as compact, separated caps; the sphere turns
# a full circle during each animation, so the caps on the far side come into view.

# %% tags=["parameters", "hide-input"]
profile: str = "smoke"  # "smoke": CI's quick book; "full": the published book
seed: int = 0  # the run shown (and the notebook's own seed)
heads: list[str] = ["original", "modified", "angular"]
margin: int = 4
embedding_dims: list[int] = [2, 3]
net: str = "mnist_small"  # or "mnist_sphere20", the reference's residual net
device: str = "auto"
figures_dir: str = "figures"  # the GIFs are also written here
data_root: str | None = None  # None: $SPHEREFACE_DATA
cache_dir: str | None = None  # None: $SPHEREFACE_CACHE

# %% tags=["hide-input"]
from sphereface_lib.book.chapters import embeddings_settings
from sphereface_lib.book.experiments import run_all
from sphereface_lib.book.pages import (
    glue_animation,
    glue_figure,
    glue_value,
    percent,
    run_label,
)
from sphereface_lib.common.seeding import seed_everything

seed_everything(seed)
settings = embeddings_settings(
    profile, seed, heads, margin, embedding_dims, net=net, device=device
)
configs = settings.configs
results = run_all(configs, cache_dir, data_root)
glue_value("seed", seed)
glue_value("snapshot_points", f"{configs[0].snapshot_points:,}")
glue_value("frame_count", len(results[0].snapshots.features))

# %% tags=["hide-input"]
from pathlib import Path

from sphereface_lib.book.animation import embedding_figure

for result in results:
    config = result.config
    title = f"{run_label(config)}, {config.embedding_dim}-D"
    key = f"{config.embedding_dim}d-{config.head}"
    glue_animation(
        f"anim-{key}",
        result.snapshots,
        title,
        path=Path(figures_dir) / f"embedding_{key.replace('-', '_')}.gif",
    )
    accuracy = f"test accuracy {percent(result.final_test_accuracy)} %"
    figure = embedding_figure(
        result.snapshots, title, legend_title="digit", label=accuracy
    )
    glue_figure(f"final-{key}", figure)

# %% [markdown]
# ## 2-D features over training
#
# {numref}`fig-anim-2d-original` to {numref}`fig-anim-2d-angular` show the three heads side by
# side; the lines are the directions of the class weights $W_j$, and each digit has its own
# colour and marker.
#
# ````{container} full-width animation-row
# ```{glue:figure} anim-2d-original
# :name: fig-anim-2d-original
# :alt: Animation of 2-D MNIST test features trained with the original softmax, with the epoch shown on each frame. From a tangle at the origin the ten digit classes spread out into radial clusters of different lengths and widths along their class-weight rays.
#
# Original softmax, 2-D: clusters of different radial extent; the angle alone does not decide
# the class.
# ```
# ```{glue:figure} anim-2d-modified
# :name: fig-anim-2d-modified
# :alt: Animation of 2-D MNIST test features trained with the modified softmax, with the epoch shown on each frame. The ten digit classes grow into wedges around their class-weight rays, and neighbouring wedges touch.
#
# Modified softmax, 2-D: angular wedges around the class weights, touching their neighbours.
# ```
# ```{glue:figure} anim-2d-angular
# :name: fig-anim-2d-angular
# :alt: Animation of 2-D MNIST test features trained with A-Softmax, m = 4, with the epoch shown on each frame. The ten digit classes contract into thin spokes along their class-weight rays, leaving empty angular gaps between neighbouring classes.
#
# A-Softmax ($m = 4$), 2-D: thin spokes along the class weights, with gaps between them.
# ```
# ````
#
# ## 3-D features over training, on the unit sphere
#
# The features are divided by their norm, so every point lies on the sphere; points on the far
# side are drawn faint, and the class weights stand out of the sphere as spikes
# ({numref}`fig-anim-3d-original` to {numref}`fig-anim-3d-angular`).
#
# ````{container} full-width animation-row
# ```{glue:figure} anim-3d-original
# :name: fig-anim-3d-original
# :alt: Animation of 3-D MNIST test features trained with the original softmax, projected onto a turning unit sphere drawn as a wire frame. The ten digit classes form patches of different sizes on the sphere.
#
# Original softmax, 3-D, on the unit sphere.
# ```
# ```{glue:figure} anim-3d-modified
# :name: fig-anim-3d-modified
# :alt: Animation of 3-D MNIST test features trained with the modified softmax, projected onto a turning unit sphere. The ten digit classes form caps around their class-weight spikes, with little space between neighbouring caps.
#
# Modified softmax, 3-D, on the unit sphere.
# ```
# ```{glue:figure} anim-3d-angular
# :name: fig-anim-3d-angular
# :alt: Animation of 3-D MNIST test features trained with A-Softmax, m = 4, projected onto a turning unit sphere. The ten digit classes gather into small compact caps around their class-weight spikes, well separated from one another.
#
# A-Softmax ($m = 4$), 3-D, on the unit sphere: compact, separated caps.
# ```
# ````
#
# ## The trained embeddings
#
# The last frame of each run, still, with the run's test accuracy (margin-free logits, on the
# test images of the profile; chapter 2 gives the mean over seeds). The 3-D views are from the
# animations' starting angle.
#
# ````{container} full-width animation-row
# ```{glue:figure} final-2d-original
# :name: fig-final-2d-original
# :alt: The trained 2-D features of the original softmax: radial clusters of the ten digits, of different lengths.
#
# Original softmax, 2-D, trained.
# ```
# ```{glue:figure} final-2d-modified
# :name: fig-final-2d-modified
# :alt: The trained 2-D features of the modified softmax: ten wedges around the class-weight rays, touching each other.
#
# Modified softmax, 2-D, trained.
# ```
# ```{glue:figure} final-2d-angular
# :name: fig-final-2d-angular
# :alt: The trained 2-D features of A-Softmax with m = 4: ten thin spokes along the class-weight rays with gaps between them.
#
# A-Softmax ($m = 4$), 2-D, trained.
# ```
# ```{glue:figure} final-3d-original
# :name: fig-final-3d-original
# :alt: The trained 3-D features of the original softmax on the unit sphere: patches of the ten digits of different sizes.
#
# Original softmax, 3-D, trained.
# ```
# ```{glue:figure} final-3d-modified
# :name: fig-final-3d-modified
# :alt: The trained 3-D features of the modified softmax on the unit sphere: caps around the ten class weights, close together.
#
# Modified softmax, 3-D, trained.
# ```
# ```{glue:figure} final-3d-angular
# :name: fig-final-3d-angular
# :alt: The trained 3-D features of A-Softmax with m = 4 on the unit sphere: ten small, separated caps around the class weights.
#
# A-Softmax ($m = 4$), 3-D, trained.
# ```
# ````
