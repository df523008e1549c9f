"""Typed training configurations and named presets (``smoke`` for CI, ``full`` for the book)."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sphereface_lib.data.training_sets import TRAINING_SET_INPUTS, TRAINING_SETS
from sphereface_lib.heads import HEADS
from sphereface_lib.maths.margins import check_margin
from sphereface_lib.nets import NET_INPUTS, NETS


def _is_real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_count(name: str, value: object, minimum: int, none_allowed: bool = False) -> None:
    """Raise ``ValueError`` unless ``value`` is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        if none_allowed:
            kind += " or None"
        raise ValueError(f"{name} must be {kind}, got {value!r}")


# Every real-valued setting: (allowed range in words, test, what to use instead). A run with a
# value outside these ranges would fail (or silently not learn) only in the middle of training.
NUMBER_RANGES: dict[str, tuple[str, Callable[[float], bool], str]] = {
    "scale": ("> 0", lambda v: v > 0, "16 suits 10 classes in 2-D, the papers use 30 or 64"),
    "additive_margin": ("> 0", lambda v: v > 0, "CosFace uses 0.35, ArcFace 0.5"),
    "learning_rate": ("> 0", lambda v: v > 0, "the book trains at 0.1"),
    "warmup_epochs": (">= 0", lambda v: v >= 0, "0 turns the warm-up off"),
    "momentum": (
        "in (0, 1)",
        lambda v: 0 < v < 1,
        "Nesterov SGD needs a momentum strictly between 0 and 1; the book uses 0.9",
    ),
    "weight_decay": (">= 0", lambda v: v >= 0, "0 turns it off, the official solver uses 5e-4"),
    "grad_clip_norm": (
        "> 0 or None",
        lambda v: v > 0,
        "give a positive norm such as 5, or None (--grad-clip-norm none) not to clip",
    ),
    "lambda_base": (">= 0", lambda v: v >= 0, "the official annealing starts at 1000"),
    "lambda_gamma": (">= 0", lambda v: v >= 0, "official 0.12; 0 keeps lambda at lambda_base"),
    "lambda_power": ("> 0", lambda v: v > 0, "the official annealing uses 1"),
    "lambda_min": (">= 0", lambda v: v >= 0, "official 5; 0 ends at pure A-Softmax"),
}


def setting(default: Any, help: str) -> Any:
    """A field of :class:`TrainConfig` with its help: one line, which the command line shows."""
    return dataclasses.field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Every field changes the result, so every field keys the cache."""

    dataset: str = setting(
        "mnist",
        "training set: mnist (digits); lfw, lfw_top6, att or casia (faces, with a sphere* "
        "net); synthetic (tiny, in memory, for tests)",
    )
    head: str = setting(
        "angular",
        "classification head: original (Wx+b), modified (unit weights, no bias), angular "
        "(A-Softmax), cosface or arcface",
    )
    margin: int = setting(4, "integer angular margin m >= 1 of the angular head (paper: 4)")
    scale: float = setting(
        16.0,
        "feature scale s of the cosface and arcface heads (16 suits "
        "10 classes in 2-D, the papers use 30 or 64)",
    )
    additive_margin: float = setting(
        0.35, "additive margin of the cosface (cos - m) and arcface (theta + m) heads"
    )
    embedding_dim: int = setting(
        2, "dimension of the learned features (2 and 3 can be drawn; the paper's faces: 512)"
    )
    # mnist_small is fast enough for several seeds on two CPU cores.
    net: str = setting(
        "mnist_small",
        "embedding network: mnist_small (fast), mnist_sphere20 (the reference's SphereFace-20 "
        "on 28x28; slow on a CPU), or for 112x96 faces sphere4/10/20/36/64, sphere64_released "
        "and the half-width sphere4/10/20_half",
    )
    epochs: int = setting(7, "passes over the training set (7: the full profile's 2-D runs)")
    # Small batches: more updates per second of CPU time on MNIST.
    batch_size: int = setting(128, "images per update")
    learning_rate: float = setting(
        0.1, "peak (cosine) or initial (steps) learning rate of SGD with Nesterov momentum"
    )
    # The 2-D bottleneck is fragile in the first updates.
    warmup_epochs: float = setting(0.5, "length of the linear learning-rate warm-up, in epochs")
    # "steps" divides by 10 at each milestone (in updates), as the official SphereFace solver.
    lr_schedule: str = setting(
        "cosine",
        "cosine (warm-up, then cosine decay to zero) or steps (divide by 10 at each of "
        "--lr-milestones)",
    )
    lr_milestones: tuple[int, ...] = setting(
        (), "comma-separated update numbers for --lr-schedule steps, e.g. 16000,24000"
    )
    max_steps: int | None = setting(
        None, "train for this many updates instead of whole epochs (e.g. 28000 for CASIA)"
    )
    momentum: float = setting(0.9, "SGD (Nesterov) momentum")
    weight_decay: float = setting(5e-4, "L2 weight decay (the official solver's 5e-4)")
    # "official" follows the official prototxts (see sphereface_lib.training.optim).
    bias_treatment: str = setting(
        "uniform",
        "uniform (one group for every parameter) or official (residual units' biases frozen "
        "at zero, other biases at twice the rate without weight decay)",
    )
    # Without clipping, a few seeds of the 2-D heads blew up at the peak learning rate.
    grad_clip_norm: float | None = setting(
        5.0, "clip the global gradient norm to this value (none: no clipping)"
    )
    # The lambda annealing of the official code.
    lambda_base: float = setting(
        1000.0, "annealing: lambda = max(lambda_min, base*(1+gamma*step)^-power); base"
    )
    lambda_gamma: float = setting(0.12, "annealing gamma (official: 0.12)")
    lambda_power: float = setting(1.0, "annealing power (official: 1)")
    lambda_min: float = setting(
        5.0, "annealing floor (official: 5; 0 is pure A-Softmax in the end)"
    )
    augment: bool = setting(
        True,
        "random changes of the training images: shifts of up to 2 pixels for digits, "
        "mirroring for faces (true/false)",
    )
    seed: int = setting(0, "random seed (initialisation, data order, augmentation)")
    train_limit: int | None = setting(
        None, "use only the first N training images (smoke runs; default: all)"
    )
    test_limit: int | None = setting(
        None, "evaluate on the first N test images (default: all, 10,000 for MNIST)"
    )
    snapshot_points: int = setting(
        1000, "test images whose features are recorded for the animations (0: none)"
    )
    # 48 frames give the animations about 10 s (0.18 s a frame, 1.5 s on the last).
    snapshot_frames: int = setting(
        48,
        "feature snapshots over the whole run, evenly spaced in updates, after the initial one "
        "(one frame each of the animations)",
    )
    device: str = setting(
        "auto", "auto (CUDA with bf16 autocast when present, else CPU), cpu, cuda or cuda:N"
    )
    # The order of a float sum, and with it the last digits of every update, depends on the
    # threads: fixed here, a run gives the same numbers trained alone or beside others, and 1
    # keeps two runs on two cores from competing.
    cpu_threads: int = setting(1, "CPU threads of the run (torch.set_num_threads)")
    # Results equal the replicated head's up to float rounding.
    shard_head: bool = setting(
        False,
        "under torchrun, split the class weights over the processes instead of replicating "
        "them (many classes; true/false)",
    )

    def __post_init__(self) -> None:
        if self.head not in HEADS:
            raise ValueError(f"unknown head {self.head!r}; choose one of {', '.join(HEADS)}")
        check_margin(self.margin)
        if self.net not in NETS:
            raise ValueError(f"unknown network {self.net!r}; choose one of {', '.join(NETS)}")
        if self.dataset not in TRAINING_SETS:
            raise ValueError(
                f"unknown dataset {self.dataset!r}; choose one of {', '.join(TRAINING_SETS)}"
            )
        if NET_INPUTS[self.net] != TRAINING_SET_INPUTS[self.dataset]:
            raise ValueError(
                f"network {self.net!r} takes inputs of shape {NET_INPUTS[self.net]} but dataset "
                f"{self.dataset!r} has {TRAINING_SET_INPUTS[self.dataset]}; use an mnist_* "
                "network for digits and a sphere* network for faces"
            )
        for name in ("embedding_dim", "epochs", "batch_size", "snapshot_frames", "cpu_threads"):
            _check_count(name, getattr(self, name), minimum=1)
        for name in ("snapshot_points", "seed"):
            _check_count(name, getattr(self, name), minimum=0)
        for name in ("max_steps", "train_limit", "test_limit"):
            if getattr(self, name) is not None:
                _check_count(name, getattr(self, name), minimum=1, none_allowed=True)
        if self.bias_treatment not in ("uniform", "official"):
            raise ValueError(
                f"bias_treatment must be 'uniform' or 'official', got {self.bias_treatment!r}"
            )
        if self.lr_schedule not in ("cosine", "steps"):
            raise ValueError(f"lr_schedule must be 'cosine' or 'steps', got {self.lr_schedule!r}")
        if not isinstance(self.lr_milestones, tuple | list):
            raise ValueError(
                f"lr_milestones must be a sequence of update numbers, got {self.lr_milestones!r}"
            )
        for milestone in self.lr_milestones:
            _check_count("every entry of lr_milestones", milestone, minimum=1)
        object.__setattr__(self, "lr_milestones", tuple(int(m) for m in self.lr_milestones))
        for name, (rule, allowed, advice) in NUMBER_RANGES.items():
            value = getattr(self, name)
            if name == "grad_clip_norm" and value is None:
                continue
            if not _is_real(value) or not math.isfinite(value) or not allowed(value):
                raise ValueError(f"{name} must be a finite number {rule}, got {value!r}; {advice}")
        if self.head == "cosface" and self.additive_margin >= 2:
            raise ValueError(
                f"additive_margin of the cosface head must lie in (0, 2), got "
                f"{self.additive_margin!r}; the CosFace paper uses 0.35"
            )
        if self.head == "arcface" and self.additive_margin >= math.pi / 2:
            raise ValueError(
                f"additive_margin of the arcface head must lie in (0, pi/2) radians, got "
                f"{self.additive_margin!r}; the ArcFace paper uses 0.5"
            )
        for name in ("augment", "shard_head"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not isinstance(self.device, str) or not re.fullmatch(
            r"auto|cpu|cuda(:[0-9]+)?", self.device
        ):
            raise ValueError(
                f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N' (N a GPU number), got "
                f"{self.device!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON values (milestones as a list), equal to the run record's copy."""
        values = dataclasses.asdict(self)
        values["lr_milestones"] = list(self.lr_milestones)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        values = dict(values)
        if "snapshots_per_epoch" in values and "snapshot_frames" not in values:
            # Records written before snapshot_frames existed (e.g. results/mnist_full.json)
            # counted frames per epoch; their runs recorded this many in all.
            per_epoch = values.pop("snapshots_per_epoch")
            values["snapshot_frames"] = per_epoch * values.get("epochs", cls.epochs)
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown configuration fields {unknown}; known: {sorted(known)}")
        return cls(**values)

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)


# Named presets: what differs from the defaults. "smoke" keeps CI to seconds per run.
PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "epochs": 2,
        "train_limit": 2048,
        "test_limit": 1000,
        "snapshot_points": 500,
        "snapshot_frames": 8,  # nine frames with the initial state: cheap to render in CI
        "warmup_epochs": 0.25,
    },
    "full": {},
    # The paper's recipe on CASIA-WebFace (Section 4.1 and the official solver): SphereFace-20,
    # batch 512, SGD 0.1 divided by 10 at 16k and 24k updates, 28k updates, weight decay 5e-4,
    # A-Softmax m = 4 with the official annealing, the official prototxt's biases.
    # Data: <data root>/faces/CASIA-WebFace/.
    "casia": {
        "dataset": "casia",
        "net": "sphere20",
        "head": "angular",
        "margin": 4,
        "embedding_dim": 512,
        "batch_size": 512,
        "learning_rate": 0.1,
        "lr_schedule": "steps",
        "lr_milestones": (16_000, 24_000),
        "max_steps": 28_000,
        "warmup_epochs": 0.0,
        "weight_decay": 5e-4,
        "bias_treatment": "official",
        "grad_clip_norm": None,
        "snapshot_points": 0,
    },
}


def preset(profile: str, **overrides: Any) -> TrainConfig:
    """The configuration of ``profile`` (``"smoke"`` or ``"full"``) with ``overrides`` applied."""
    if profile not in PRESETS:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PRESETS)}")
    return TrainConfig(**{**PRESETS[profile], **overrides})
