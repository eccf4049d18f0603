"""Models: the location encoder, the image head, GeoCLIP on cached features, published weights.

Only the config is imported with the package; the torch modules load on first use.
"""

from geovario.lazy import lazy_attributes
from geovario.models.config import GEOCLIP_SIGMAS, INITS, ModelConfig

__getattr__ = lazy_attributes(__name__, {
    "FourierBranch": "location_encoder", "GeoCLIP": "geoclip", "ImageHead": "image_head",
    "LocationEncoder": "location_encoder", "published_gallery": "pretrained",
    "warm_start": "pretrained"})


def build_model(config: ModelConfig):
    """A model from its config, warm-started from the published GeoCLIP weights as it asks."""
    from geovario.models.geoclip import GeoCLIP
    from geovario.models.pretrained import warm_start

    model = GeoCLIP(config)
    if config.init != "scratch":
        warm_start(model, location_only=config.init == "location")
    return model


__all__ = [
    "GEOCLIP_SIGMAS",
    "INITS",
    "FourierBranch",
    "GeoCLIP",
    "ImageHead",
    "LocationEncoder",
    "ModelConfig",
    "build_model",
    "published_gallery",
    "warm_start",
]
