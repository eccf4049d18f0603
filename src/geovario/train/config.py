"""Training settings as a small frozen dataclass, saved in the run directory as JSON."""

import warnings
from dataclasses import asdict, dataclass, field, fields

from geovario.errors import GeovarioError
from geovario.precision import AMP_MODES, use_bf16


@dataclass(frozen=True)
class TrainConfig:
    """How to train; GeoCLIP's published settings are the defaults.

    Adam at lr 3e-5 with weight decay 1e-6, the learning rate × 0.87 after every epoch,
    a queue of 4096 GPS points, GPS noise of 150 m on batch and 1000 m on queue points.
    """

    train_store: str = ""
    epochs: int = 10
    batch_size: int = 256
    lr: float = 3e-5
    weight_decay: float = 1e-6
    lr_decay: float = 0.87
    queue_size: int = 4096
    batch_noise_m: float = 150.0
    queue_noise_m: float = 1000.0
    seed: int = 0
    val_fraction: float = 0.0
    loss: str = "infonce"
    loss_options: dict = field(default_factory=dict)
    #: The run's fitted variogram (JSON path), handed to a loss that ``needs_variogram``;
    #: None: fitted on a sample of the store when the loss needs one.
    variogram: str | None = None
    #: Refit the variogram on the image head's embeddings every N steps (0: never); only
    #: for a loss that needs a variogram.
    refit_every: int = 0
    refit_smoothing: float = 0.5
    refit_sample: int = 4096
    device: str = "auto"
    #: bfloat16 autocast: "auto" (on CUDA only), "bf16" (on any device; CPU autocast
    #: follows the same low-precision rules) or "off".
    amp: str = "auto"
    checkpoint_every: int = 1000
    log_every: int = 10

    def __post_init__(self):
        if "variogram" in self.loss_options:
            warnings.warn("TrainConfig: loss_options['variogram'] is deprecated; the variogram "
                          "is the run's setting TrainConfig(variogram=...)", DeprecationWarning,
                          stacklevel=3)
            for name, value in _lift_variogram(asdict(self)).items():
                object.__setattr__(self, name, value)
        checks = [
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.batch_size >= 2, f"batch_size must be >= 2, got {self.batch_size}"),
            (self.lr > 0, f"lr must be > 0, got {self.lr}"),
            (0 < self.lr_decay <= 1, f"lr_decay must be in (0, 1], got {self.lr_decay}"),
            (self.queue_size >= 0, f"queue_size must be >= 0, got {self.queue_size}"),
            (self.batch_noise_m >= 0 and self.queue_noise_m >= 0, "GPS noise must be >= 0 m"),
            (0 <= self.val_fraction < 1, f"val_fraction must be in [0, 1), got "
                                         f"{self.val_fraction}"),
            (self.checkpoint_every >= 1, "checkpoint_every must be >= 1"),
            (self.refit_every >= 0, "refit_every must be >= 0"),
            (0 < self.refit_smoothing <= 1, "refit_smoothing must be in (0, 1]"),
            (self.log_every >= 1, "log_every must be >= 1"),
            (self.amp in AMP_MODES, f"amp must be one of {', '.join(AMP_MODES)}, got "
                                    f"{self.amp!r}"),
        ]
        for ok, message in checks:
            if not ok:
                raise GeovarioError(f"train: {message}")

    def autocast_enabled(self, device_type: str) -> bool:
        """Whether the model's forward pass runs under bfloat16 autocast on this device."""
        return use_bf16(self.amp, device_type)

    def lr_at_epoch(self, epoch: int) -> float:
        """Learning rate of a (0-based) epoch: lr · decay^epoch."""
        return self.lr * self.lr_decay**epoch

    def to_dict(self) -> dict:
        """JSON-ready."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict, source: str = "train config") -> "TrainConfig":
        """Rebuild from :meth:`to_dict` output, refusing unknown keys.

        Raises:
            GeovarioError: "<source>: unknown train config keys ...".
        """
        data = {k: v for k, v in data.items() if k != "track_features"}  # no longer a setting
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise GeovarioError(f"{source}: unknown train config keys {unknown}")
        if "variogram" in data.get("loss_options", {}):  # runs written before it was a setting
            data = {**data, **_lift_variogram(data)}
        if isinstance(data.get("amp"), bool):  # runs written before amp had modes
            data = {**data, "amp": "auto" if data["amp"] else "off"}
        return cls(**data)


def _lift_variogram(data: dict) -> dict:
    """``loss_options["variogram"]`` (where older runs and callers put it) as the run's setting."""
    options = dict(data["loss_options"])
    given = options.pop("variogram")
    return {"loss_options": options, "variogram": data.get("variogram") or given}
