"""The world map behind the page: NASA's Blue Marble, downscaled once, served by the app itself.

The image is equirectangular (row 0 at 90° N, column 0 at 180° W), so a marker for
(latitude, longitude) sits at x = (longitude + 180) / 360 and y = (90 − latitude) / 180
of its width and height: no tile server, no projection library, nothing from the web.
"""

import io

from PIL import Image

from geovario.data.bluemarble import bmng_path


def world_map_jpeg(width: int = 1350, quality: int = 85) -> bytes:
    """The Blue Marble image (5400 x 2700) as a ``width`` x ``width / 2`` JPEG.

    ``draft`` lets the JPEG decoder scale by 1/2, 1/4 or 1/8 while decoding (1350 px
    is exactly 1/4), so this takes a fraction of a full decode.
    """
    size = (width, width // 2)
    with bmng_path().open("rb") as handle, Image.open(handle) as image:
        image.draft("RGB", size)
        small = image.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    return buffer.getvalue()
