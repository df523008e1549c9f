"""Typed training configurations and named presets (``smoke`` for CI, ``full`` for the book)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sphereface_lib.data.training_sets import TRAINING_SET_INPUTS, TRAINING_SETS
from sphereface_lib.heads import HEADS
from sphereface_lib.margins import check_margin
from sphereface_lib.nets import NET_INPUTS, NETS


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Every field changes the result, so every field keys the cache."""

    dataset: str = "mnist"  # or "lfw", "att" (faces; use a sphere* network)
    head: str = "angular"
    margin: int = 4  # the paper's m; used by the angular head only
    scale: float = 16.0  # s of the cosface/arcface heads (16 suits 10 classes in 2-D)
    additive_margin: float = 0.35  # m of the cosface (cos - m) and arcface (theta + m) heads
    embedding_dim: int = 2  # 2 and 3 can be drawn; the paper's faces use 512
    net: str = "mnist_small"  # fast enough for several seeds on two CPU cores
    epochs: int = 7  # the full profile's 2-D runs (see experiments.FULL_EPOCHS)
    batch_size: int = 128  # small batches: more updates per second of CPU time on MNIST
    learning_rate: float = 0.1  # peak of the warm-up + cosine schedule (SGD, Nesterov momentum)
    warmup_epochs: float = 0.5  # the 2-D bottleneck is fragile in the first updates
    # "cosine": linear warm-up then cosine decay; "steps": divide by 10 at each milestone
    # (in updates), as the official SphereFace solver does.
    lr_schedule: str = "cosine"
    lr_milestones: tuple[int, ...] = ()
    max_steps: int | None = None  # train for this many updates instead of whole epochs
    momentum: float = 0.9
    weight_decay: float = 5e-4  # the official SphereFace solver's value
    # "uniform": every parameter in one group (rate and weight decay as above). "official": as
    # the official prototxts, biases of residual units frozen at zero, other biases at twice
    # the rate without weight decay (see sphereface_lib.optim).
    bias_treatment: str = "uniform"
    # Without clipping, a few seeds of the 2-D heads blew up at the peak learning rate.
    grad_clip_norm: float | None = 5.0  # clip the global gradient norm (None: no clipping)
    # lambda annealing of the official code: lambda = max(min, base * (1 + gamma*step)^-power).
    lambda_base: float = 1000.0
    lambda_gamma: float = 0.12
    lambda_power: float = 1.0
    lambda_min: float = 5.0
    augment: bool = True  # random shifts of up to 2 pixels
    seed: int = 0
    train_limit: int | None = None  # use only the first N training images (smoke runs)
    test_limit: int | None = None  # evaluate on the first N test images (None: all 10,000)
    snapshot_points: int = 1000  # test images whose features are recorded (0: none)
    # Recorded frames over the whole run, evenly spaced in updates, after the initial state:
    # 48 give the animations about 10 s (0.18 s a frame, 1.5 s on the last), whatever the epochs.
    snapshot_frames: int = 48
    device: str = "auto"  # "auto" picks CUDA when present (with bf16 autocast), else the CPU
    # Under torchrun: shard the class weights over the ranks (many classes) instead of
    # replicating them. Results equal the replicated head's up to float rounding.
    shard_head: bool = False

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
        positive = ("embedding_dim", "epochs", "batch_size", "snapshot_frames")
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        object.__setattr__(self, "lr_milestones", tuple(int(m) for m in self.lr_milestones))
        if self.bias_treatment not in ("uniform", "official"):
            raise ValueError(
                f"bias_treatment must be 'uniform' or 'official', got {self.bias_treatment!r}"
            )
        if self.lr_schedule not in ("cosine", "steps"):
            raise ValueError(f"lr_schedule must be 'cosine' or 'steps', got {self.lr_schedule!r}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be None or a positive count, got {self.max_steps}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.lambda_min < 0 or self.lambda_base < 0:
            raise ValueError("lambda_base and lambda_min must be >= 0")
        if self.snapshot_points < 0:
            raise ValueError(f"snapshot_points must be >= 0, got {self.snapshot_points}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        for name in ("train_limit", "test_limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be None (all images) or a positive count")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {self.device!r}")

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
