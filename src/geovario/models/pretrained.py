"""The published GeoCLIP weights and 100K GPS gallery, read from the installed `geoclip` package.

The package's files are read directly (no ``import geoclip``, which would pull in CLIP
and transformers): ``model/weights/location_encoder_weights.pth`` (keys
``LocEnc{i}.capsule.0.b`` for the Fourier matrix, ``LocEnc{i}.capsule.{1,3,5}`` for the MLP,
``LocEnc{i}.head.0`` for the head; branch i has σ = 2^0, 2^4, 2^8),
``image_encoder_mlp_weights.pth`` (``0`` and ``2``: the 768 → 768 → 512 head),
``logit_scale_weights.pth`` and ``gps_gallery/coordinates_100K.csv`` (LAT, LON).
"""

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from geovario.errors import GeovarioError
from geovario.models.config import GEOCLIP_SIGMAS, ModelConfig

GEOCLIP_FEATURE_DIM = 768
#: The published model's shape: CLIP ViT-L/14 features (768-d), 512-d embeddings, three
#: Fourier scales; every part loads from the package.
PUBLISHED_CONFIG = ModelConfig(backbone="clip:openai/clip-vit-large-patch14",
                               feature_dim=GEOCLIP_FEATURE_DIM, init="geoclip")


def geoclip_package_dir() -> Path:
    """Folder of the installed ``geoclip`` package's ``model`` directory.

    Raises:
        GeovarioError: "geoclip: the 'geoclip' package is not installed ...".
    """
    spec = importlib.util.find_spec("geoclip")
    if spec is None or not spec.submodule_search_locations:
        raise GeovarioError("geoclip: the 'geoclip' package is not installed "
                            "(pip install geoclip); it carries the published weights")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _load(name: str) -> dict | torch.Tensor:
    path = geoclip_package_dir() / "weights" / name
    if not path.is_file():
        raise GeovarioError(f"geoclip: {path} is missing from the installed package")
    return torch.load(path, map_location="cpu", weights_only=True)


@lru_cache(maxsize=1)
def published_location_branches() -> dict[float, dict[str, torch.Tensor]]:
    """Per σ, the published branch weights renamed to geovario's ``FourierBranch`` keys."""
    raw = _load("location_encoder_weights.pth")
    renames = {"capsule.0.b": "frequencies", "capsule.1.weight": "mlp.0.weight",
               "capsule.1.bias": "mlp.0.bias", "capsule.3.weight": "mlp.2.weight",
               "capsule.3.bias": "mlp.2.bias", "capsule.5.weight": "mlp.4.weight",
               "capsule.5.bias": "mlp.4.bias", "head.0.weight": "head.weight",
               "head.0.bias": "head.bias"}
    branches = {}
    for i, sigma in enumerate(GEOCLIP_SIGMAS):
        branches[sigma] = {new: raw[f"LocEnc{i}.{old}"] for old, new in renames.items()}
    return branches


@lru_cache(maxsize=1)
def published_image_head() -> dict[str, torch.Tensor]:
    """The published 768 → 768 → 512 image head, with geovario's ``ImageHead`` keys."""
    raw = _load("image_encoder_mlp_weights.pth")
    return {f"mlp.{key}": value for key, value in raw.items()}


def published_logit_scale() -> torch.Tensor:
    """The trained logit scale (log of the inverse temperature)."""
    return _load("logit_scale_weights.pth").reshape(())


@lru_cache(maxsize=1)
def published_gallery() -> np.ndarray:
    """GeoCLIP's 100K gallery of GPS points as an (N, 2) float64 latitude/longitude array."""
    path = geoclip_package_dir() / "gps_gallery" / "coordinates_100K.csv"
    if not path.is_file():
        raise GeovarioError(f"geoclip: {path} is missing from the installed package")
    return pd.read_csv(path)[["LAT", "LON"]].to_numpy(dtype=np.float64)


def warm_start(model, *, location_only: bool = False) -> list[str]:
    """Copy every published part whose shape matches into ``model`` (a ``GeoCLIP``).

    Location-encoder branches are matched by σ, so a model with an extra scale (e.g.
    2^12 for finer resolution) keeps the published three and trains the new one from
    scratch. Unless ``location_only``, the image head loads for 768-d backbone features
    (CLIP ViT-L/14) and the trained logit scale comes with a fully published location
    encoder. Returns the names of the parts loaded.
    """
    loaded = []
    published = published_location_branches()
    for sigma, branch in zip(model.location_encoder.sigmas, model.location_encoder.branches,
                             strict=True):
        weights = published.get(sigma)
        if weights is not None and weights["frequencies"].shape == branch.frequencies.shape \
                and weights["head.weight"].shape == branch.head.weight.shape:
            branch.load_state_dict(weights)
            loaded.append(f"location branch sigma={sigma:g}")
    if location_only:
        return loaded
    if model.image_head.in_dim == GEOCLIP_FEATURE_DIM and \
            model.image_head.mlp[0].weight.shape == (GEOCLIP_FEATURE_DIM, GEOCLIP_FEATURE_DIM):
        model.image_head.load_state_dict(published_image_head())
        loaded.append("image head")
    if all(sigma in published for sigma in model.location_encoder.sigmas):
        with torch.no_grad():
            model.logit_scale.copy_(published_logit_scale())
        loaded.append("logit scale")
    return loaded


def published_geoclip():
    """GeoCLIP as published, ready to locate CLIP ViT-L/14 features: no training needed.

    Raises:
        GeovarioError: when the installed package lacks a part, or one does not fit.
    """
    from geovario.models.geoclip import GeoCLIP

    model = GeoCLIP(PUBLISHED_CONFIG)
    loaded = warm_start(model)
    if len(loaded) != len(GEOCLIP_SIGMAS) + 2:
        raise GeovarioError(f"geoclip: the installed package gave only {', '.join(loaded)} "
                            "of the published model")
    return model
