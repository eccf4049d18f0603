"""Decode image bytes without letting one bad file stop a multi-hour job.

Pillow reports damaged files through many exception types (``UnidentifiedImageError``,
``OSError`` "image file is truncated", ``SyntaxError`` from some plugins,
``DecompressionBombError``, ``ValueError``...). ``decode_image`` turns all of them
into one ``CorruptImageError`` that extraction counts and logs, and forces the full
decode (``load``) so truncation shows up here, not later in a transform. The image
keeps its own mode: converting to RGB is the backbone's ``preprocess``'s job, which
does it the way its reference processor does (e.g. transparency onto white).
"""

import io
import zlib

from PIL import Image

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, zlib.error,
                  Image.DecompressionBombError)


class CorruptImageError(Exception):
    """The bytes are not a decodable image; the message says why."""


def decode_image(data: bytes) -> Image.Image:
    """Decode encoded image bytes into a fully loaded PIL image (first frame, own mode).

    Raises:
        CorruptImageError: "empty file", or "<ExceptionType>: <Pillow's message>" for bytes
            Pillow cannot identify or decode completely.
    """
    if not data:
        raise CorruptImageError("empty file")
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
        return image
    except _DECODE_ERRORS as error:
        raise CorruptImageError(f"{type(error).__name__}: {error}") from None
