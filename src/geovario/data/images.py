"""Decode image bytes into an upright 8-bit picture, without letting one bad file stop a job.

The one image reader of extraction, ``predict`` and ``serve``. Pillow reports damaged
files through many exception types (``UnidentifiedImageError``, ``OSError`` "image file
is truncated", ``SyntaxError`` from some plugins, ``DecompressionBombError``,
``ValueError``...). ``decode_image`` turns all of them into one ``CorruptImageError``
that extraction counts and logs, and forces the full decode (``load``) so truncation
shows up here, not later in a transform.

Two corrections make the pixels those a person sees (:func:`as_displayed`):

- **EXIF orientation.** Phones store a photo taken sideways with its sensor's pixel
  order and an Orientation tag (3: turned 180°, 6: 90° clockwise, 8: 90° anticlockwise,
  2/4/5/7 mirrored); viewers apply the tag, and so does geovario.
- **Bit depth.** Pillow's conversion to RGB clips every value over 255, so a 16-bit grey
  image (scientific cameras, drones, GIS tools) would become almost pure white. Grey
  deeper than 8 bits is scaled to 8 bits first, by this rule:

  - ``I;16``, ``I;16L``, ``I;16B``, ``I;16N`` (16-bit): v / 257, rounded, so 65535 → 255
    and an 8-bit value x stored as 16 bits (x · 257) comes back as exactly x;
  - ``I`` (32-bit integer, e.g. a 16-bit PGM or an integer TIFF): values that all lie in
    0–255 are already 8-bit and kept; values in 0–65535 are 16-bit and scaled as above;
    anything else (negative, or over 65535) is stretched linearly from its minimum to
    its maximum onto 0–255;
  - ``F`` (32-bit float, e.g. a GeoTIFF band): values that all lie in 0–1 are scaled by
    255 (the usual float image convention); any other range is stretched from its
    minimum to its maximum; NaN (no data) becomes 0.

Every other mode (RGB, L, CMYK, palette, alpha...) is left as it is: converting to RGB
is the backbone's ``preprocess``'s job, which does it the way its reference processor
does (e.g. transparency onto white).
"""

import io
import zlib

import numpy as np
from PIL import ExifTags, Image, ImageOps

#: What Pillow raises for damaged or unreadable files.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, zlib.error,
                  Image.DecompressionBombError)
#: Modes holding one channel deeper than 8 bits.
DEEP_GREY_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


class CorruptImageError(Exception):
    """The bytes are not a decodable image; the message says why."""


def decode_image(data: bytes) -> Image.Image:
    """Decode encoded image bytes into a fully loaded, upright, 8-bit PIL image (first frame).

    Raises:
        CorruptImageError: "empty file", or "<ExceptionType>: <Pillow's message>" for bytes
            Pillow cannot identify or decode completely.
    """
    if not data:
        raise CorruptImageError("empty file")
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
        return as_displayed(image)
    except DECODE_ERRORS as error:
        raise CorruptImageError(f"{type(error).__name__}: {error}") from None


def as_displayed(image: Image.Image) -> Image.Image:
    """The picture as a viewer shows it: EXIF orientation applied, deep grey scaled to 8 bits.

    ``image`` itself is never modified; it is returned unchanged when nothing applies.
    """
    return to_8bit(upright(image))


def upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF Orientation tag (a copy without the tag), or return ``image`` as it is.

    A damaged EXIF block is ignored: the pixels are still usable.
    """
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except DECODE_ERRORS:
        return image
    if orientation not in range(2, 9):
        return image
    return ImageOps.exif_transpose(image)


def to_8bit(image: Image.Image) -> Image.Image:
    """Grey deeper than 8 bits as an ``L`` image by the module's rule; other modes unchanged."""
    if image.mode not in DEEP_GREY_MODES:
        return image
    values = np.asarray(image, dtype=np.float64)
    if image.mode.startswith("I;16"):
        scaled = values / 257
    elif image.mode == "F":
        values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
        scaled = values * 255 if _within(values, 0, 1) else _stretch(values)
    elif _within(values, 0, 255):
        scaled = values
    elif _within(values, 0, 65535):
        scaled = values / 257
    else:
        scaled = _stretch(values)
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8))


def _within(values: np.ndarray, low: float, high: float) -> bool:
    return values.size == 0 or (values.min() >= low and values.max() <= high)


def _stretch(values: np.ndarray) -> np.ndarray:
    """Minimum → 0, maximum → 255 (a constant image becomes 0)."""
    low, span = values.min(), np.ptp(values)
    return (values - low) * 255 / span if span > 0 else np.zeros_like(values)
