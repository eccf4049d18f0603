import io

import numpy as np
import pytest
from PIL import Image

from geovario.data.images import CorruptImageError, decode_image


def encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("shape", [(5, 7, 3), (5, 7, 4), (5, 7)])
def test_decodes_the_pixels_of_the_file_in_their_own_mode(shape):
    pixels = np.arange(np.prod(shape), dtype=np.uint8).reshape(shape)
    image = decode_image(encode(Image.fromarray(pixels), "PNG"))
    channels = shape[2] if len(shape) == 3 else 1
    assert image.mode == {3: "RGB", 4: "RGBA", 1: "L"}[channels] and image.size == (7, 5)
    np.testing.assert_array_equal(np.asarray(image), pixels)


@pytest.mark.parametrize("data, match", [
    (b"", "empty file"),
    (b"definitely not an image", "UnidentifiedImageError"),
    (encode(Image.new("RGB", (64, 64), "red"), "JPEG")[:300], "(?i)truncated"),
    (encode(Image.new("RGB", (64, 64), "red"), "PNG")[:-30], "(?i)truncated|crc|EOF"),
])
def test_damaged_bytes_raise_one_error_type(data, match):
    with pytest.raises(CorruptImageError, match=match):
        decode_image(data)
