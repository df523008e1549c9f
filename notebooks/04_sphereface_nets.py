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
# # SphereFace-20 and its family
#
# The face networks of the paper {cite}`liu2017sphereface` (its Table 2) are residual
# networks of 4, 10, 20, 36 and 64 convolutional layers. All five share one plan:
#
# - the input is a face aligned and cropped to 112×96 pixels, each RGB value mapped to
#   $(p - 127.5)/128$;
# - four **stages** of 64, 128, 256 and 512 channels; each stage opens with a 3×3
#   convolution of stride 2, which halves the feature map, followed by a number of
#   **residual units** $x + \mathrm{PReLU}(\mathrm{conv}(\mathrm{PReLU}(\mathrm{conv}(x))))$ of
#   two 3×3 convolutions at constant width;
# - PReLU after every convolution and no batch normalisation;
# - a fully connected layer (`fc5`) from the 512×7×6 map of the last stage to the 512-d face
#   feature — the vector the heads of the earlier chapters classify, and the vector that face
#   verification compares.
#
# The depths differ only in the residual units per stage. The depth in a network's name counts
# its 3×3 convolutions: 4 strided ones plus two per residual unit.
#
# Everything below is read off the networks that `sphereface_lib.nets` builds.

# %% tags=["parameters"]
profile = "smoke"  # "smoke" and "full" differ only in the length of the training demo
seed = 0
device = "auto"  # the demo trains SphereFace-20 where CUDA is, the half-width SphereFace-4 on a CPU
depths = [4, 10, 20, 36, 64]
face_identity = "Colin_Powell"  # an LFW folder whose first image goes through SphereFace-20
demo_epochs: int | None = None  # None: 8 for smoke, 12 for full
data_root: str | None = None  # None: $SPHEREFACE_DATA, else ~/.cache/sphereface/data
cache_dir: str | None = None  # None: $SPHEREFACE_CACHE, else ~/.cache/sphereface/runs

# %%
import matplotlib.pyplot as plt
import torch
from IPython.display import display
from matplotlib.patches import Rectangle

from sphereface_lib.cache import train_or_load
from sphereface_lib.config import preset
from sphereface_lib.data import LFW_DEEPFUNNELED_CROP, FaceFolder, FacePreprocess, lfw_folder
from sphereface_lib.data.faces import read_image
from sphereface_lib.face_experiments import CASIA_WEBFACE_IMAGES, face_config
from sphereface_lib.nets import build_net, count_parameters
from sphereface_lib.nets.summary import stage_shapes, summarize
from sphereface_lib.plots import plot_metric
from sphereface_lib.report import show_table
from sphereface_lib.seeding import seed_everything

seed_everything(seed)
if demo_epochs is None:
    demo_epochs = 8 if profile == "smoke" else 12

# %% [markdown]
# ## The five depths
#
# Parameters and multiply-adds are those of one 112×96 RGB face and 512-d features.
# Multiply-adds count the convolutions and the linear layer (PReLU and the residual additions
# are negligible). The half-width variants (32/64/128/256 channels) are this book's own, made
# to train on a CPU: they are not in the paper.

# %% tags=["hide-input"]
names = [f"sphere{depth}" for depth in depths] + ["sphere4_half", "sphere10_half", "sphere20_half"]
rows = []
for name in names:
    summary = summarize(build_net(name, 512))
    rows.append(
        [
            name,
            summary.conv_layers,
            "/".join(map(str, summary.stage_widths)),
            "/".join(map(str, summary.stage_strides)),
            "/".join(map(str, summary.units_per_stage)),
            summary.parameters / 1e6,
            summary.multiply_adds / 1e9,
        ]
    )
display(
    show_table(
        rows,
        [
            "network",
            "3×3 conv layers",
            "channels per stage",
            "strides",
            "residual units per stage",
            "parameters (M)",
            "multiply-adds (G)",
        ],
        ["{}", "{}", "{}", "{}", "{}", "{:.2f}", "{:.2f}"],
    )
)

# %% [markdown]
# Two things stand out. The depth costs compute, not parameters: going from 20 to 64 layers
# multiplies the work per image by about 3.5 but the parameters only by about 2. And a large
# share of every network's parameters sits in `fc5`, whose 512×7×6 = 21,504 inputs times 512
# outputs make 11 M weights — almost all of SphereFace-4.

# %%
fc5 = build_net("sphere20", 512).fc
print(
    f"fc5 of SphereFace-20: {fc5.in_features:,} -> {fc5.out_features}: {count_parameters(fc5):,} parameters"
)

# %% [markdown]
# ## The MNIST SphereFace-20 of the reference
#
# The TensorFlow reimplementation that chapter 2 compares with {cite}`yunyang2018sphereface`
# trains SphereFace-20 on 28×28 grey digits. The library builds the same plan for that input
# (`mnist_sphere20`): the four stride-2 stages take 28×28 to 14, 7, 4 and 2 pixels, so its
# feature layer reads only 512×2×2 values, and the convolutions hold nearly all parameters.

# %%
rows = []
for dimension in (2, 3):
    net = build_net("mnist_sphere20", dimension)
    summary = summarize(net)
    rows.append(
        [
            f"mnist_sphere20, {dimension}-D features",
            summary.parameters,
            count_parameters(net.fc),
            summary.multiply_adds / 1e6,
        ]
    )
display(
    show_table(
        rows,
        ["network", "parameters", "of which the feature layer", "multiply-adds (M), 1×28×28"],
        ["{}", "{:,}", "{:,}", "{:.1f}"],
    )
)

# %% [markdown]
# ## One face through SphereFace-20
#
# A real face from the LFW folder of the data root. LFW's deep-funneled images are 250×250 and
# roughly aligned; without the five landmarks of the paper's alignment, the library crops one
# fixed box (`LFW_DEEPFUNNELED_CROP`, drawn below) and resizes it to 112×96.

# %%
folder = FaceFolder(lfw_folder(data_root), identities=[face_identity])
path, _ = folder.samples[0]
original = read_image(path)
preprocess = FacePreprocess(crop=LFW_DEEPFUNNELED_CROP)
face = preprocess.to_uint8(original)

figure, axes = plt.subplots(1, 2, figsize=(7, 3.6), width_ratios=[250, 120])
axes[0].imshow(original)
left, upper, right, lower = LFW_DEEPFUNNELED_CROP
axes[0].add_patch(
    Rectangle((left, upper), right - left, lower - upper, fill=False, color="#E69F00", lw=2)
)
axes[0].set_title(f"{path.name}, {original.width}×{original.height}", fontsize=9)
axes[1].imshow(face.permute(1, 2, 0).numpy())
axes[1].set_title(f"network input, {face.shape[2]}×{face.shape[1]}", fontsize=9)
for ax in axes:
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
figure.tight_layout()
plt.show()

# %% [markdown]
# Forward hooks on the last layer of every stage record what flows through an (untrained)
# SphereFace-20. Each stage halves height and width (rounding up) and doubles the channels;
# the last map is flattened into `fc5`.

# %%
net = build_net("sphere20", 512)
images = preprocess(original).unsqueeze(0)  # (1, 3, 112, 96), normalised
rows = [
    [name, " × ".join(map(str, shape[1:])), int(torch.tensor(shape[1:]).prod())]
    for name, shape in stage_shapes(net, images)
]
display(show_table(rows, ["where", "shape (without the batch)", "values"], ["{}", "{}", "{:,}"]))

# %% [markdown]
# ## Training it on a face set
#
# The paper trains on CASIA-WebFace {cite}`yi2014casia` (494,414 images of about 10,500
# people) with SGD: batch 512, learning rate 0.1 divided by 10 after 16k and 24k iterations,
# 28k iterations in all, weight decay $5\cdot10^{-4}$, momentum 0.9, and A-Softmax with $m = 4$
# whose $\lambda$ is annealed per iteration as $\lambda = \max(5, 1000\,(1 + 0.12\,t)^{-1})$.
# The library holds that recipe as its `casia` preset; the table is read from it.

# %% tags=["hide-input"]
recipe = preset("casia")
epochs_on_casia = recipe.max_steps * recipe.batch_size / CASIA_WEBFACE_IMAGES
milestones = " and ".join(f"{step:,}" for step in recipe.lr_milestones)
rows = [
    ["network", "net", recipe.net],
    ["head, margin m", "head, margin", f"{recipe.head}, {recipe.margin}"],
    ["feature dimension", "embedding_dim", recipe.embedding_dim],
    ["batch", "batch_size", recipe.batch_size],
    ["length", "max_steps", f"{recipe.max_steps:,} updates ({epochs_on_casia:.1f} epochs)"],
    [
        "learning rate",
        "learning_rate, lr_schedule, lr_milestones",
        f"{recipe.learning_rate:g}, ÷10 at {milestones} ({recipe.lr_schedule})",
    ],
    [
        "weight decay, momentum",
        "weight_decay, momentum",
        f"{recipe.weight_decay:g}, {recipe.momentum:g}",
    ],
    [
        "λ annealing",
        "lambda_base, lambda_gamma, lambda_power, lambda_min",
        f"{recipe.lambda_base:g}, {recipe.lambda_gamma:g}, {recipe.lambda_power:g}, {recipe.lambda_min:g}",
    ],
    ["augmentation", "augment", "horizontal mirror" if recipe.augment else "none"],
]
display(show_table(rows, ["", "configuration field", "casia preset"], align="lll"))

# %% [markdown]
# The data go under the data root as one folder per identity of faces already aligned and
# cropped to 112×96 (the paper aligns with five facial landmarks),
# `<data root>/faces/CASIA-WebFace/<identity>/<image>.jpg` — the layout that
# `sphereface_lib.data.FaceFolder` reads, as it reads LFW here. Half a million images do not fit
# in memory as tensors, so this set is decoded batch by batch. Then, on one GPU:
#
# ```bash
# python -m sphereface_lib train --profile casia --data-root /path/to/data
# ```
#
# (`--net sphere64` for the paper's deepest network). One difference from the official Caffe
# solver remains: the library's SGD uses Nesterov momentum. Chapter 6 estimates what such a run
# costs on a GPU; no such run is part of this book, which does not ship CASIA-WebFace.
#
# ## A training run small enough to watch
#
# The AT&T faces {cite}`samaria1994att`: 30 subjects with 8 training and 2 test images each.
# On a CPU the half-width SphereFace-4 trains a few epochs in seconds (SphereFace-20 takes over
# ten times longer per image); with CUDA present SphereFace-20 itself is trained. The runs of
# the face chapters keep the shape of the official $\lambda$ schedule but let $\lambda$ reach its
# floor of 5 at 40 % of their much shorter length (chapter 6 explains why).

# %%
demo = face_config(
    profile, "att", "angular", device=device, data_root=data_root, epochs=demo_epochs
)
print(f"{demo.net}, A-Softmax m={demo.margin}, {demo.epochs} epochs of batch {demo.batch_size}")

# %% tags=["nbval-ignore-output"]
result = train_or_load(demo, cache_dir, data_root)

# %% tags=["hide-input"]
rows = [
    [
        int(row["epoch"]),
        row["lambda"],
        row["train_loss"],
        row["train_accuracy"],
        row["test_accuracy"],
    ]
    for row in result.metrics
]
display(
    show_table(
        rows,
        [
            "epoch",
            "λ at the end",
            "training loss (with margin)",
            "training accuracy",
            "test accuracy",
        ],
        ["{}", "{:.1f}", "{:.3f}", "{:.3f}", "{:.3f}"],
    )
)

figure, axes = plt.subplots(1, 2, figsize=(9, 3.2))
curves = {"angular": [result]}
plot_metric(axes[0], curves, "train_loss", "training loss (with margin)")
plot_metric(
    axes[1], curves, "test_accuracy", f"test accuracy ({result.record['test_images']} images)"
)
figure.tight_layout()
plt.show()

# %% [markdown]
# The loss falls, and the two held-out images of each of the 30 subjects are classified better
# as training goes on. Classifying people seen in training is not what a face network is for, though: the
# next chapters test the features on people the network has never seen.
