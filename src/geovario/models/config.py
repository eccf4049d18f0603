"""The model's shape as a small frozen dataclass, saved as JSON beside every checkpoint."""

from dataclasses import asdict, dataclass, fields

from geovario.errors import GeovarioError

#: GeoCLIP's three Fourier scales σ (the published location encoder's branches).
GEOCLIP_SIGMAS = (2.0**0, 2.0**4, 2.0**8)
INITS = ("location", "geoclip", "scratch")


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a model before loading its weights."""

    backbone: str = "clip:openai/clip-vit-large-patch14"
    feature_dim: int = 768
    embed_dim: int = 512
    sigmas: tuple[float, ...] = GEOCLIP_SIGMAS
    frequencies: int = 256
    hidden: int = 1024
    #: "location": the published location encoder only, the image head random and the
    #: logit scale at log(1/0.07), as the semivariogram paper and its prototype start;
    #: "geoclip": every published part whose shape fits (location encoder, 768-d image
    #: head, trained logit scale); "scratch": random initialisation.
    init: str = "location"
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "sigmas", tuple(float(s) for s in self.sigmas))
        if self.init not in INITS:
            raise GeovarioError(f"model: init must be one of {', '.join(INITS)}, "
                                f"got {self.init!r}")
        if not self.sigmas:
            raise GeovarioError("model: at least one location-encoder scale (sigma) is needed")

    def to_dict(self) -> dict:
        """JSON-ready."""
        out = asdict(self)
        out["sigmas"] = list(self.sigmas)
        return out

    @classmethod
    def from_dict(cls, data: dict, source: str = "model config") -> "ModelConfig":
        """Rebuild from :meth:`to_dict` output, refusing unknown keys.

        Raises:
            GeovarioError: "<source>: unknown model config keys ...".
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise GeovarioError(f"{source}: unknown model config keys {unknown}")
        return cls(**data)
