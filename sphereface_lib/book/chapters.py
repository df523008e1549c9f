"""Every chapter's settings in one place: what its parameters are by profile, resolved.

A chapter's notebook declares its knobs in its parameters cell as plain typed literals, ``None``
meaning "the profile's value", and passes them to its function here, which returns them
resolved (chapter 2: ``settings = mnist_accuracy_settings(profile, seeds=seeds, ...)``). The
scripts call the same functions, so a script and its chapter cannot disagree. The settings of
one run (``smoke``: a subset of MNIST for CI, ``full``: the book) are the presets of
:mod:`~sphereface_lib.training.config`; the face runs' are :data:`FACE_SETTINGS` here.

To add a chapter parameter: declare it in the notebook's parameters cell (with its type), add
it to the chapter's settings class and function below (with its value per profile when it has
one) and read ``settings.<name>`` in the notebook.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sphereface_lib.training.config import TrainConfig, preset

PROFILES = ("smoke", "full")


def check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")


# -- The MNIST grid: the landing page, chapters 2, 3 and 5 and scripts/mnist_results.py ---------

# The three formulations of the paper, in the order the book shows them.
MNIST_HEADS = ("original", "modified", "angular")
MNIST_DIMENSIONS = (2, 3)
# The seeds of the MNIST table by profile.
MNIST_SEEDS = {"smoke": (0, 1), "full": (0, 1, 2)}
# Epochs of the full profile by feature dimension: 3-D features separate faster than 2-D (after
# two epochs they are above the 2-D runs' seventh). Sized so that the 18 runs of chapter 2 train
# in about 20 minutes on two CPU cores and the whole book in under an hour.
FULL_EPOCHS = {2: 7, 3: 2}


def mnist_seeds(profile: str) -> tuple[int, ...]:
    """The seeds of the MNIST table of ``profile``."""
    check_profile(profile)
    return MNIST_SEEDS[profile]


def grid(
    profile: str,
    heads: Sequence[str],
    dimensions: Sequence[int],
    seeds: Sequence[int],
    **overrides: Any,
) -> list[TrainConfig]:
    """Configurations of every (head, dimension, seed), in that nesting order; the full
    profile trains each dimension for its :data:`FULL_EPOCHS`."""
    configs = []
    for head in heads:
        for dimension in dimensions:
            for seed in seeds:
                values: dict[str, Any] = {"head": head, "embedding_dim": dimension, "seed": seed}
                if profile == "full":
                    values["epochs"] = FULL_EPOCHS.get(dimension, FULL_EPOCHS[2])
                configs.append(preset(profile, **{**values, **overrides}))
    return configs


def mnist_grid(
    profile: str,
    heads: Sequence[str] = MNIST_HEADS,
    dimensions: Sequence[int] = MNIST_DIMENSIONS,
    seeds: Sequence[int] | None = None,
    **overrides: Any,
) -> list[TrainConfig]:
    """The runs of the MNIST table (``seeds`` None: the profile's)."""
    seeds = mnist_seeds(profile) if seeds is None else seeds
    return grid(profile, heads, dimensions, seeds, **overrides)


# -- Landing page (00_intro) -------------------------------------------------------------------


@dataclass(frozen=True)
class IntroSettings:
    seeds: tuple[int, ...]
    configs: tuple[TrainConfig, ...]  # the 2-D runs of the three heads


def intro_settings(
    profile: str,
    seeds: Sequence[int] | None = None,
    net: str = "mnist_small",
    device: str = "auto",
) -> IntroSettings:
    """The headline: the MNIST table's 2-D runs (``seeds`` None: chapter 2's)."""
    seeds = tuple(mnist_seeds(profile) if seeds is None else seeds)
    configs = mnist_grid(profile, dimensions=[2], seeds=seeds, net=net, device=device)
    return IntroSettings(seeds, tuple(configs))


# -- Chapter 1: softmax formulations -------------------------------------------------------------

# Grids of the figures and checks: coarse for CI, fine for the book.
FORMULATIONS_GRIDS = {
    "smoke": {"grid_points": 2_001, "circle_points": 1_440, "theta_12_count": 7},
    "full": {"grid_points": 100_001, "circle_points": 2_880, "theta_12_count": 16},
}


@dataclass(frozen=True)
class FormulationsSettings:
    grid_points: int  # theta and cos(theta) grids
    circle_points: int  # points on the circle of the decision-boundary figure
    theta_12_count: int  # class angles 30 to 180 degrees of the margin check


def formulations_settings(
    profile: str, grid_points: int | None = None, circle_points: int | None = None
) -> FormulationsSettings:
    """The grids of chapter 1 (None: the profile's)."""
    check_profile(profile)
    grids = FORMULATIONS_GRIDS[profile]
    return FormulationsSettings(
        grid_points=grids["grid_points"] if grid_points is None else grid_points,
        circle_points=grids["circle_points"] if circle_points is None else circle_points,
        theta_12_count=grids["theta_12_count"],
    )


# -- Chapter 2: MNIST accuracy -----------------------------------------------------------------


@dataclass(frozen=True)
class MnistAccuracySettings:
    seeds: tuple[int, ...]
    configs: tuple[TrainConfig, ...]


def mnist_accuracy_settings(
    profile: str,
    seeds: Sequence[int] | None = None,
    heads: Sequence[str] = MNIST_HEADS,
    margin: int = 4,
    embedding_dims: Sequence[int] = MNIST_DIMENSIONS,
    net: str = "mnist_small",
    device: str = "auto",
) -> MnistAccuracySettings:
    """The MNIST table's runs (``seeds`` None: :data:`MNIST_SEEDS` of the profile)."""
    seeds = tuple(mnist_seeds(profile) if seeds is None else seeds)
    configs = mnist_grid(
        profile, heads, embedding_dims, seeds, margin=margin, net=net, device=device
    )
    return MnistAccuracySettings(seeds, tuple(configs))


# -- Chapter 3: embeddings ---------------------------------------------------------------------


@dataclass(frozen=True)
class EmbeddingsSettings:
    configs: tuple[TrainConfig, ...]  # the MNIST table's runs of one seed


def embeddings_settings(
    profile: str,
    seed: int = 0,
    heads: Sequence[str] = MNIST_HEADS,
    margin: int = 4,
    embedding_dims: Sequence[int] = MNIST_DIMENSIONS,
    net: str = "mnist_small",
    device: str = "auto",
) -> EmbeddingsSettings:
    """The runs whose embeddings chapter 3 animates: the MNIST table's runs of ``seed``."""
    configs = mnist_grid(
        profile, heads, embedding_dims, [seed], margin=margin, net=net, device=device
    )
    return EmbeddingsSettings(tuple(configs))


# -- Chapter 4: the SphereFace networks --------------------------------------------------------

# Epochs of the training demo (the AT&T faces) by profile.
DEMO_EPOCHS = {"smoke": 8, "full": 12}


@dataclass(frozen=True)
class NetsSettings:
    demo_epochs: int  # epochs of the training demo on the AT&T faces


def nets_settings(profile: str, demo_epochs: int | None = None) -> NetsSettings:
    """Chapter 4's settings (None: the profile's)."""
    check_profile(profile)
    return NetsSettings(DEMO_EPOCHS[profile] if demo_epochs is None else demo_epochs)


# -- Chapter 5: beyond the reference -------------------------------------------------------------

# The chapter's knobs that depend on the profile: the seeds of the runs (the high-dimensional
# sweep and the 2-D margins that chapter 2 trains) and the A-Softmax margins of the sweep
# (m = 1 is the modified softmax).
BEYOND_DEFAULTS: dict[str, dict[str, tuple[int, ...]]] = {
    "smoke": {"seeds": (0,), "margins": (1, 4)},
    "full": {"seeds": (0, 1), "margins": (1, 2, 3, 4, 5)},
}
# The heads whose margin is added to the cosine or to the angle (chapter 5).
ADDITIVE_HEADS = ("cosface", "arcface")


@dataclass(frozen=True)
class BeyondSettings:
    """The parameters of chapter 5, with every "None: by profile" resolved."""

    profile: str
    seeds: tuple[int, ...]  # the high_dim runs, and the 2-D margins 1 and 4 (chapter 2's runs)
    new_seeds: tuple[int, ...]  # 2-D runs that chapter 2 does not train
    margins: tuple[int, ...]  # A-Softmax margins of the sweep; 1 is the modified softmax
    high_dim: int = 32  # the second feature dimension
    high_dim_epochs: int = 1
    high_dim_annealing: bool = False  # False: A-Softmax with lambda = 0 in high_dim
    scale: float = 16.0  # s of CosFace and ArcFace
    cosface_margin: float = 0.35  # the CosFace paper's m
    arcface_margin: float = 0.5  # the ArcFace paper's m (radians)
    # 2-D margins of CosFace and ArcFace, sized for ten classes on a circle.
    sized_margins: tuple[tuple[str, float], ...] = (("cosface", 0.06), ("arcface", 0.2))
    paper_margins_in_2d: bool = False  # True: also train the papers' margins in 2-D
    anneal_margin: int = 4  # the A-Softmax margin of the annealing comparison
    # Seeds of the official schedule and of lambda = 0 in the annealing comparison (the Claims
    # page's verdict on annealing needs several); empty: the MNIST table's (chapter 2's).
    annealing_seeds: tuple[int, ...] = ()
    fixed_lambda: float = 5.0  # lambda held constant from the first step
    lambda_floors: tuple[float, ...] = (0.0,)  # floors of the official schedule besides its own
    device: str = "auto"

    @property
    def dimensions(self) -> tuple[int, int]:
        return (2, self.high_dim)


def beyond_settings(
    profile: str,
    seeds: Sequence[int] | None = None,
    new_seeds: Sequence[int] | None = None,
    margins: Sequence[int] | None = None,
    sized_margins: Mapping[str, float] | None = None,
    lambda_floors: Sequence[float] = (0.0,),
    **others: Any,
) -> BeyondSettings:
    """The chapter's settings: ``None`` takes the profile's default (:data:`BEYOND_DEFAULTS`;
    ``new_seeds``: the first of ``seeds``); ``others`` are the remaining fields as given."""
    check_profile(profile)
    known = {field.name for field in fields(BeyondSettings)}
    unknown = sorted(set(others) - known)
    if unknown:
        raise ValueError(f"unknown settings {unknown}; known: {sorted(known)}")
    defaults = BEYOND_DEFAULTS[profile]
    seeds = tuple(defaults["seeds"] if seeds is None else seeds)
    margins = tuple(defaults["margins"] if margins is None else margins)
    if not seeds or not margins:
        raise ValueError(f"need at least one seed and one margin, got {seeds} and {margins}")
    new_seeds = seeds[:1] if new_seeds is None else tuple(new_seeds)
    sized = dict(BeyondSettings.sized_margins if sized_margins is None else sized_margins)
    wrong = sorted(set(sized) - set(ADDITIVE_HEADS))
    if wrong:
        raise ValueError(f"sized_margins are for {' and '.join(ADDITIVE_HEADS)}, got {wrong}")
    others.setdefault("annealing_seeds", mnist_seeds(profile))
    others["annealing_seeds"] = tuple(others["annealing_seeds"])
    return BeyondSettings(
        profile=profile,
        seeds=seeds,
        new_seeds=new_seeds,
        margins=margins,
        sized_margins=tuple((head, float(margin)) for head, margin in sized.items()),
        lambda_floors=tuple(float(floor) for floor in lambda_floors),
        **others,
    )


# -- Chapters 4 and 6: the face runs -------------------------------------------------------------

# What the face runs (face_experiments.face_config) change from the "full" preset, per (data
# set, profile). Epochs and batch sizes are set so that the full chapter 6 trains in under a
# quarter of an hour on two CPU cores (the whole book within an hour).
FACE_SETTINGS: dict[tuple[str, str], dict[str, Any]] = {
    # 3,068 training images: 48 updates per epoch at batch 64.
    ("lfw", "full"): {"epochs": 10, "batch_size": 64},
    ("lfw", "smoke"): {"epochs": 2, "batch_size": 64, "train_limit": 256, "test_limit": 64},
    # 1,022 training images of six people; 3-D features need more passes to settle.
    ("lfw_top6", "full"): {"epochs": 12, "batch_size": 64},
    ("lfw_top6", "smoke"): {"epochs": 2, "batch_size": 64, "train_limit": 192},
    # 240 training images: 8 updates per epoch at batch 32.
    ("att", "full"): {"epochs": 20, "batch_size": 32},
    ("att", "smoke"): {"epochs": 2, "batch_size": 32},
}
# LFW verification pairs drawn per class (same / different) by profile (chapter 6).
LFW_PAIRS_PER_CLASS = {"smoke": 50, "full": 300}


@dataclass(frozen=True)
class FacesSettings:
    lfw_pairs_per_class: int  # LFW verification pairs per class (same / different)


def faces_settings(profile: str, lfw_pairs_per_class: int | None = None) -> FacesSettings:
    """Chapter 6's settings (None: the profile's); its runs come from ``face_config``."""
    check_profile(profile)
    pairs = LFW_PAIRS_PER_CLASS[profile] if lfw_pairs_per_class is None else lfw_pairs_per_class
    return FacesSettings(pairs)


# -- Chapter 6: the paper's Table 3 on faces, and the six people for m = 1..4 ---------------------

# The margins of the face sweep, as the paper's Table 3 lists them: the original softmax, then
# A-Softmax with m = 1 (the modified softmax) to 4.
FACE_SWEEP = (("original", None), ("modified", 1), ("angular", 2), ("angular", 3), ("angular", 4))
FACE_SWEEP_SEEDS = {"smoke": (0, 1), "full": (0, 1, 2)}


@dataclass(frozen=True)
class FaceSweepSettings:
    seeds: tuple[int, ...]
    sweep: tuple[tuple[str, int | None], ...] = FACE_SWEEP


def face_sweep_settings(profile: str, seeds: Sequence[int] | None = None) -> FaceSweepSettings:
    """The seeds of the LFW margin sweep and of the six people's angles (None: the profile's)."""
    check_profile(profile)
    seeds = tuple(FACE_SWEEP_SEEDS[profile] if seeds is None else seeds)
    if len(seeds) < 2:
        raise ValueError(f"the sweep's verdicts need at least two seeds, got {list(seeds)}")
    return FaceSweepSettings(seeds)


# -- Chapter 7: open-set digits -----------------------------------------------------------------

# Trained on digits 0-5, verified on pairs of the unseen digits 6-9; the heads of the face
# sweep, in 2-D (drawable) and in OPEN_SET_HIGH_DIM dimensions.
OPEN_SET_HIGH_DIM = 16
OPEN_SET_DEFAULTS: dict[str, dict[str, Any]] = {
    "smoke": {"seeds": (0, 1), "epochs": {2: 2, OPEN_SET_HIGH_DIM: 2}, "pairs_per_fold": 200},
    "full": {"seeds": (0, 1, 2), "epochs": {2: 5, OPEN_SET_HIGH_DIM: 2}, "pairs_per_fold": 2000},
}
OPEN_SET_FOLDS = ((6, 7), (8, 9))  # class-disjoint verification folds of the unseen digits


@dataclass(frozen=True)
class OpenSetSettings:
    profile: str
    seeds: tuple[int, ...]
    dimensions: tuple[int, ...]
    epochs: tuple[tuple[int, int], ...]  # (dimension, epochs)
    pairs_per_fold: int
    sweep: tuple[tuple[str, int | None], ...] = FACE_SWEEP
    folds: tuple[tuple[int, ...], ...] = OPEN_SET_FOLDS

    def epochs_of(self, dimension: int) -> int:
        return dict(self.epochs)[dimension]


def open_set_settings(
    profile: str,
    seeds: Sequence[int] | None = None,
    dimensions: Sequence[int] = (2, OPEN_SET_HIGH_DIM),
    pairs_per_fold: int | None = None,
) -> OpenSetSettings:
    """Chapter 7's settings (None: the profile's :data:`OPEN_SET_DEFAULTS`)."""
    check_profile(profile)
    defaults = OPEN_SET_DEFAULTS[profile]
    seeds = tuple(defaults["seeds"] if seeds is None else seeds)
    if len(seeds) < 2:
        raise ValueError(f"the chapter's verdicts need at least two seeds, got {list(seeds)}")
    epochs = {
        d: defaults["epochs"].get(d, defaults["epochs"][OPEN_SET_HIGH_DIM]) for d in dimensions
    }
    return OpenSetSettings(
        profile=profile,
        seeds=seeds,
        dimensions=tuple(dimensions),
        epochs=tuple(epochs.items()),
        pairs_per_fold=defaults["pairs_per_fold"] if pairs_per_fold is None else pairs_per_fold,
    )
