"""Zip shards of JPEG patches, written so that a build gives the same bytes every time.

Members are stored (not deflated) with a fixed timestamp and permissions, JPEGs with fixed
settings; each shard appears by atomic rename. Used by :mod:`geovario.data.bluemarble`.
"""

import io
import math
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from geovario.data.equirect import EquirectangularImage
from geovario.fileio import atomic_write
from geovario.progress import ProgressBar

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
SAMPLES_PER_CHUNK = 1 << 20  # output pixels sampled at once: about 100 MB of float32 work


def jpeg(patch: np.ndarray, quality: int) -> bytes:
    """Fixed JPEG settings (4:4:4 chroma keeps colour at full resolution): same bytes per run."""
    buffer = io.BytesIO()
    Image.fromarray(patch).save(buffer, format="JPEG", quality=quality, subsampling=0)
    return buffer.getvalue()


def write_shards(folder: Path, ids: list[str], coords: np.ndarray, image: EquirectangularImage,
                 config, bar: ProgressBar, seconds: dict[str, float]) -> list[Path]:
    """Zip shards of ``shard_size`` JPEGs, members ``<shard>/<id>.jpg`` with fixed timestamps.

    ``config`` is the build's ``BuildConfig`` (shard_size, patch_km, pixels, jpeg_quality);
    ``seconds`` gains the time spent sampling patches and encoding/zipping them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    n_shards = math.ceil(len(ids) / config.shard_size)
    width = max(2, len(str(n_shards - 1)))
    chunk = max(1, SAMPLES_PER_CHUNK // config.pixels**2)
    paths = []
    for shard in range(n_shards):
        name = f"{shard:0{width}d}"
        rows = range(shard * config.shard_size, min((shard + 1) * config.shard_size, len(ids)))

        def write(handle, name=name, rows=rows) -> None:
            with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
                for start in range(rows.start, rows.stop, chunk):
                    stop = min(start + chunk, rows.stop)
                    began = time.perf_counter()
                    patches = image.patches(coords[start:stop], config.patch_km, config.pixels)
                    sampled = time.perf_counter()
                    for row, patch in zip(range(start, stop), patches, strict=True):
                        member = zipfile.ZipInfo(f"{name}/{ids[row]}.jpg", date_time=ZIP_DATE)
                        member.external_attr = 0o644 << 16
                        archive.writestr(member, jpeg(patch, config.jpeg_quality))
                    seconds["patches"] += sampled - began
                    seconds["jpeg_zip"] += time.perf_counter() - sampled
                    bar.update(stop - start)

        paths.append(folder / f"{name}.zip")
        atomic_write(paths[-1], write)
    return paths
