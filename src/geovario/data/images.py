"""Decode image bytes without letting one bad file stop a multi-hour job.

Pillow reports damaged files through many exception types (``UnidentifiedImageError``,
``OSError`` "image file is truncated", ``SyntaxError`` from some plugins,
``DecompressionBombError``, ``ValueError``...). ``decode_image`` turns all of them
into one ``CorruptImageError`` that extraction counts and logs, and forces the full
decode (``load``) so truncation shows up here, not later in a transform.
"""

import io
import zlib

from PIL import Image

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, zlib.error,
                  Image.DecompressionBombError)


class CorruptImageError(Exception):
    """The bytes are not a decodable image; the message says why."""


def decode_image(data: bytes) -> Image.Image:
    """Decode encoded image bytes into a fully loaded RGB PIL image.

    Raises:
        CorruptImageError: "empty file", or "<ExceptionType>: <Pillow's message>" for bytes
            Pillow cannot identify or decode completely.
    """
    if not data:
        raise CorruptImageError("empty file")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image.convert("RGB")
    except _DECODE_ERRORS as error:
        raise CorruptImageError(f"{type(error).__name__}: {error}") from None
