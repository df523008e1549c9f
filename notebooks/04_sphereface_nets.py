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
# - the input is a face aligned and cropped to 112 × 96 pixels (height × width), each RGB
#   value mapped to
#   $(p - 127.5)/128$;
# - four **stages** of 64, 128, 256 and 512 channels; each stage opens with a 3×3
#   convolution of stride 2, which halves the feature map, followed by a number of
#   **residual units** $x + \mathrm{PReLU}(\mathrm{conv}(\mathrm{PReLU}(\mathrm{conv}(x))))$ of
#   two 3×3 convolutions at constant width;
# - PReLU after every convolution and no batch normalisation;
# - a fully connected layer (`fc5`) from the 512 × 7 × 6 map of the last stage to the 512-d face
#   feature — the vector the heads of the earlier chapters classify, and the vector that face
#   verification compares.
#
# The depths differ only in the residual units per stage. The depth in a network's name counts
# its 3 × 3 convolutions: 4 strided ones plus two per residual unit, as in the paper's Table 2
# and the official generator `make_spherenet.py` {cite}`liu2017code` (the official *released*
# SphereFace-64 file departs from it; see below).
#
# Everything below is read off the networks that `sphereface_lib.nets` builds. The chapter's
# parameters are in the first folded cell; {doc}`../rerun` shows how to change them.

# %% tags=["parameters", "hide-input"]
profile: str = "smoke"  # "smoke" and "full" differ in the training demo only
seed: int = 0
device: str = (
    "auto"  # "auto": SphereFace-20 with CUDA, a half-width net on a CPU
)
depths: list[int] = [4, 10, 20, 36, 64]
face_identity: str = (
    "Colin_Powell"  # the LFW person shown going through the net
)
demo_epochs: int | None = None  # None: 8 for smoke, 12 for full
data_root: str | None = None  # None: $SPHEREFACE_DATA
cache_dir: str | None = None  # None: $SPHEREFACE_CACHE

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import torch
from IPython.display import display
from matplotlib.patches import Rectangle
from matplotlib.ticker import PercentFormatter
from sphereface_lib.book.chapters import nets_settings
from sphereface_lib.book.face_experiments import face_config
from sphereface_lib.book.pages import (
    COLUMN_INCHES,
    glue_figure,
    glue_markdown,
    glue_value,
    percent,
    use_book_style,
)
from sphereface_lib.book.plots import plot_metric
from sphereface_lib.book.report import show_table
from sphereface_lib.book.sources import (
    CASIA_WEBFACE_IMAGES,
    CASIA_WEBFACE_OFFICIAL_CLASSES,
    CASIA_WEBFACE_PEOPLE,
)
from sphereface_lib.common.seeding import seed_everything
from sphereface_lib.data import (
    LFW_DEEPFUNNELED_CROP,
    FaceFolder,
    FacePreprocess,
    lfw_folder,
)
from sphereface_lib.data.faces import read_image
from sphereface_lib.nets import build_net, count_parameters
from sphereface_lib.nets.summary import stage_shapes, summarize
from sphereface_lib.training.cache import train_or_load
from sphereface_lib.training.config import preset

seed_everything(seed)
use_book_style()
settings = nets_settings(profile, demo_epochs)

# %% [markdown]
# ## The five depths
#
# Parameters and multiply-adds are those of one 112 × 96 RGB face and 512-d features.
# Multiply-adds count the convolutions and the linear layer (PReLU and the residual additions
# are negligible). The half-width variants (32/64/128/256 channels) are this book's own, made
# to train on a CPU: they are not in the paper.

# %% tags=["hide-input", "full-width"]
names = [f"sphere{depth}" for depth in depths] + [
    "sphere4_half",
    "sphere10_half",
    "sphere20_half",
]
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
            "3 × 3 conv layers",
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
# multiplies the work per image by {glue:text}`work_ratio` but the parameters only by
# {glue:text}`parameter_ratio`. And a large share of every network's parameters sits in `fc5`,
# whose 512 × 7 × 6 = {glue:text}`fc5_inputs` inputs times {glue:text}`fc5_outputs` outputs make
# {glue:text}`fc5_parameters` parameters — {glue:text}`fc5_share_sphere4` of SphereFace-4's.

# %% tags=["hide-input"]
fc5 = build_net("sphere20", 512).fc
summaries = {
    name: summarize(build_net(name, 512))
    for name in ("sphere4", "sphere20", "sphere64")
}
glue_value("fc5_inputs", f"{fc5.in_features:,}")
glue_value("fc5_outputs", f"{fc5.out_features:,}")
glue_value("fc5_parameters", f"{count_parameters(fc5):,}")
glue_value(
    "fc5_share_sphere4",
    f"{percent(count_parameters(fc5) / summaries['sphere4'].parameters, 0)} %",
)
glue_value(
    "work_ratio",
    f"{summaries['sphere64'].multiply_adds / summaries['sphere20'].multiply_adds:.1f}",
)
glue_value(
    "parameter_ratio",
    f"{summaries['sphere64'].parameters / summaries['sphere20'].parameters:.1f}",
)

# %% [markdown]
# ### SphereFace-64 as released
#
# The depth rule above holds for the paper's Table 2, for the official generator
# `train/code/make_spherenet.py` ({glue:text}`generator_units` residual units per stage) and
# for OpenSphere's `sfnet64`, and the library's `sphere64` follows them. The SphereFace-64 model
# the official repository *released* ({cite}`liu2017code`,
# `train/model_lib/Sphereface-64/sphereface_64_model.prototxt`) is different: its second stage
# has one residual unit fewer ({glue:text}`released_units`), so it has
# {glue:text}`released_convolutions` convolutions, not 64, and {glue:text}`released_parameters`
# parameters without the classifier against {glue:text}`generator_parameters` — one 128-wide
# residual unit, {glue:text}`parameter_difference` parameters. The library builds it as
# `sphere64_released`; the book trains neither.

# %% tags=["hide-input"]
released = summarize(build_net("sphere64_released", 512))
generator = summarize(build_net("sphere64", 512))
glue_value("generator_units", " / ".join(map(str, generator.units_per_stage)))
glue_value("released_units", " / ".join(map(str, released.units_per_stage)))
glue_value("released_convolutions", released.conv_layers)
glue_value("released_parameters", f"{released.parameters:,}")
glue_value("generator_parameters", f"{generator.parameters:,}")
glue_value(
    "parameter_difference", f"{generator.parameters - released.parameters:,}"
)

# %% [markdown]
# ## The MNIST SphereFace-20 of the reference
#
# The TensorFlow reimplementation that chapter 2 compares with {cite}`yunyang2018sphereface`
# trains SphereFace-20 on 28 × 28 grey digits. The library builds the same plan for that input
# (`mnist_sphere20`): the four stride-2 stages take 28 × 28 to 14, 7, 4 and 2 pixels, so its
# feature layer reads only 512 × 2 × 2 values, and the convolutions hold nearly all parameters.

# %% tags=["hide-input"]
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
        [
            "network",
            "parameters",
            "of which the feature layer",
            "multiply-adds (M), 1 × 28 × 28",
        ],
        ["{}", "{:,}", "{:,}", "{:.1f}"],
    )
)

# %% [markdown]
# ## One face through SphereFace-20
#
# A real face from the LFW folder of the data root ({numref}`fig-face-crop`). LFW's
# deep-funneled images {cite}`huang2007lfw,huang2012deepfunnel` are 250 × 250 and roughly
# aligned; without the five landmarks of the paper's alignment, the library crops one fixed box
# (`LFW_DEEPFUNNELED_CROP`) and resizes it to 112 × 96.

# %% tags=["hide-input"]
folder = FaceFolder(lfw_folder(data_root), identities=[face_identity])
path, _ = folder.samples[0]
original = read_image(path)
preprocess = FacePreprocess(crop=LFW_DEEPFUNNELED_CROP)
face = preprocess.to_uint8(original)

figure, axes = plt.subplots(
    1, 2, figsize=(COLUMN_INCHES, 3.6), width_ratios=[250, 120]
)
axes[0].imshow(original)
left, upper, right, lower = LFW_DEEPFUNNELED_CROP
axes[0].add_patch(
    Rectangle(
        (left, upper),
        right - left,
        lower - upper,
        fill=False,
        color="#E69F00",
        lw=2,
    )
)
axes[0].set_title(f"{original.height} × {original.width} original")
axes[1].imshow(face.permute(1, 2, 0).numpy())
axes[1].set_title(f"{face.shape[1]} × {face.shape[2]} input")
for ax in axes:
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
figure.tight_layout()
glue_figure("fig-face-crop", figure)
glue_value("face_file", path.name)

# %% [markdown]
# ```{glue:figure} fig-face-crop
# :name: fig-face-crop
# :alt: Left, a 250 by 250 pixel colour photograph of a man's face from LFW, roughly centred, with an orange rectangle around the central face region. Right, that region resized to the 112 by 96 pixel input of the network.
#
# The first LFW image of the chosen person ({glue:text}`face_file`): the deep-funneled
# original with the fixed crop box (left) and the network input it becomes (right).
# ```

# %% [markdown]
# Forward hooks on the last layer of every stage record what flows through an (untrained)
# SphereFace-20. Each stage halves height and width (rounding up) and doubles the channels;
# the last map is flattened into `fc5`.

# %% tags=["hide-input"]
net = build_net("sphere20", 512)
images = preprocess(original).unsqueeze(0)  # (1, 3, 112, 96), normalised
rows = [
    [
        name,
        " × ".join(map(str, shape[1:])),
        int(torch.tensor(shape[1:]).prod()),
    ]
    for name, shape in stage_shapes(net, images)
]
display(
    show_table(
        rows,
        ["where", "shape (without the batch)", "values"],
        ["{}", "{}", "{:,}"],
    )
)

# %% [markdown]
# ## Training it on a face set
#
# The paper trains on CASIA-WebFace {cite}`yi2014casia`, {glue:text}`casia_images` images of
# {glue:text}`casia_people` people (Section 4.1); the official code {cite}`liu2017code` trains on
# {glue:text}`casia_classes` of them, its list dropping the identities that also appear in LFW.
# The recipe comes from two places, and the table says which: the paper's Section 4.1 gives the
# batch size (128, on four GPUs), the learning rate 0.1 divided by 10 at 16k and 24k iterations
# and the 28k iterations; the official model file sets 256 images per GPU instead, and the
# preset takes 512 (128 on each of four GPUs). The weight decay, the momentum and the $\lambda$
# annealing
# $\lambda = \max(5, 1000\,(1 + 0.12\,t)^{-1})$ are in the official solver and margin layer.
# The library holds the recipe as its `casia` preset, and the table is read from it.

# %% tags=["hide-input", "full-width"]
recipe = preset("casia")
epochs_on_casia = recipe.max_steps * recipe.batch_size / CASIA_WEBFACE_IMAGES
milestones = " and ".join(f"{step:,}" for step in recipe.lr_milestones)
PAPER = "paper, Section 4.1"
SOLVER = "official solver"
rows = [
    ["network", recipe.net, "paper, Table 2"],
    ["head, margin", f"A-Softmax, m = {recipe.margin}", "paper, Section 3"],
    ["feature dimension", recipe.embedding_dim, "paper, Section 4.1"],
    [
        "batch",
        f"{recipe.batch_size}",
        "paper: 128 on 4 GPUs; official model file: 256 per GPU",
    ],
    [
        "length",
        f"{recipe.max_steps:,} updates ({epochs_on_casia:.1f} epochs)",
        PAPER,
    ],
    [
        "learning rate",
        f"{recipe.learning_rate:g}, ÷ 10 at {milestones}",
        PAPER,
    ],
    ["weight decay", f"{recipe.weight_decay:g}", SOLVER],
    ["biases", recipe.bias_treatment, "official model file"],
    ["momentum", f"{recipe.momentum:g}", SOLVER],
    [
        "λ: base, γ, power, floor",
        f"{recipe.lambda_base:g}, {recipe.lambda_gamma:g}, "
        f"{recipe.lambda_power:g}, {recipe.lambda_min:g}",
        "official margin layer",
    ],
    [
        "augmentation",
        "horizontal mirror" if recipe.augment else "none",
        "official data layer",
    ],
]
display(show_table(rows, ["setting", "casia preset", "source"], align="lll"))
glue_value("casia_images", f"{CASIA_WEBFACE_IMAGES:,}")
glue_value("casia_people", f"{CASIA_WEBFACE_PEOPLE:,}")
glue_value("casia_classes", f"{CASIA_WEBFACE_OFFICIAL_CLASSES:,}")

# %% [markdown]
# The data go under the data root as one folder per identity of faces already aligned and
# cropped to 112 × 96 (the paper aligns with five facial landmarks),
# `<data root>/faces/CASIA-WebFace/<identity>/<image>.jpg` — the layout that
# `sphereface_lib.data.FaceFolder` reads, as it reads LFW here. Half a million images do not fit
# in memory as tensors, so this set is decoded batch by batch. Then, on one GPU:
#
# ```bash
# python -m sphereface_lib train --profile casia --data-root /path/to/data
# ```
#
# (`--net sphere64` for the paper's deepest network). Like the official training files, the
# preset counts $\lambda$'s iterations from 1 (the first batch trains with
# $\lambda = 1000/1.12 \approx 892.9$) and treats the biases as they do (`bias_treatment =
# "official"`): the biases of the residual convolutions are frozen at zero (`lr_mult: 0`), the
# other biases learn at twice the rate without weight decay. The book's own runs, on MNIST and
# on faces, train every parameter alike (`bias_treatment = "uniform"`). What still differs from
# the official Caffe training: the library's SGD uses Nesterov momentum, and the official
# margin layer rescales its gradient and renormalises the class weights in place on every
# forward pass. Chapter 6 estimates what such a run costs on a GPU; no such run is part of this
# book, which does not ship CASIA-WebFace.
#
# ## A training run small enough to watch
#
# The AT&T faces {cite}`samaria1994att`: 30 subjects with 8 training and 2 test images each.
# On a CPU the half-width SphereFace-4 trains a few epochs in seconds (SphereFace-20 takes over
# ten times longer per image); with CUDA present SphereFace-20 itself is trained. The runs of
# the face chapters keep the shape of the official $\lambda$ schedule but let $\lambda$ reach its
# floor of 5 at 40 % of their much shorter length (chapter 6 explains why).
# {glue:md}`demo_sentence` The table and {numref}`fig-demo-training` show how it went.

# %% tags=["hide-input"]
demo = face_config(
    profile,
    "att",
    "angular",
    device=device,
    data_root=data_root,
    epochs=settings.demo_epochs,
)
result = train_or_load(demo, cache_dir, data_root)
glue_markdown(
    "demo_sentence",
    f"This build trained `{demo.net}` with A-Softmax (*m* = {demo.margin}) "
    f"for {demo.epochs} epochs of batch {demo.batch_size}.",
)

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
            "training accuracy (%)",
            "test accuracy (%)",
        ],
        ["{}", "{:.1f}", "{:.3f}", percent, percent],
    )
)

figure, axes = plt.subplots(1, 2, figsize=(COLUMN_INCHES, 3.0))
curves = {"angular": [result]}
names = {"angular": f"A-Softmax (m={demo.margin})"}
plot_metric(
    axes[0], curves, "train_loss", "training loss (with margin)", names
)
plot_metric(axes[1], curves, "test_accuracy", "test accuracy", names)
axes[1].yaxis.set_major_formatter(PercentFormatter(1.0))
for ax in axes:
    ax.get_legend().remove()
figure.tight_layout()
glue_figure("fig-demo-training", figure)
glue_value("demo_test_images", result.record["test_images"])

# %% [markdown]
# ```{glue:figure} fig-demo-training
# :name: fig-demo-training
# :alt: Two line plots against epoch for the AT&T demonstration run: the training loss falls, and the test accuracy on the held-out images rises.
#
# The AT&T demonstration run: training loss (with the margin) and test accuracy on the
# {glue:text}`demo_test_images` held-out images, per epoch.
# ```
#
# The loss falls, and the two held-out images of each of the 30 subjects are classified better
# as training goes on. Classifying people seen in training is not what a face network is for,
# though: chapter 6 ({doc}`06_faces`) tests the features on people the network has never seen.
