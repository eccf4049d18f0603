"""Models: the location encoder, the image head, GeoCLIP on cached features, published weights."""

from geovario.models.config import ModelConfig
from geovario.models.geoclip import GeoCLIP
from geovario.models.image_head import ImageHead
from geovario.models.location_encoder import GEOCLIP_SIGMAS, FourierBranch, LocationEncoder
from geovario.models.pretrained import published_gallery, warm_start


def build_model(config: ModelConfig) -> GeoCLIP:
    """A model from its config, warm-started from the published GeoCLIP weights as it asks."""
    model = GeoCLIP(config)
    if config.init != "scratch":
        warm_start(model, location_only=config.init == "location")
    return model


__all__ = [
    "GEOCLIP_SIGMAS",
    "FourierBranch",
    "GeoCLIP",
    "ImageHead",
    "LocationEncoder",
    "ModelConfig",
    "build_model",
    "published_gallery",
    "warm_start",
]
