"""Where candidate locations for retrieval come from: GeoCLIP's 100K points, a store, a CSV."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Gallery:
    """Candidate locations (G, 2), latitude/longitude in degrees, and where they came from."""

    coords: np.ndarray
    name: str

    def __len__(self) -> int:
        return len(self.coords)


def load_gallery(spec: str = "geoclip") -> Gallery:
    """A gallery by name.

    ``geoclip`` is the published 100K GPS gallery, ``store:DIR`` a store's distinct
    training coordinates, anything else the path of a CSV with latitude/longitude (or
    lat/lon, LAT/LON).

    Raises:
        GeovarioError: for a missing file, a CSV without coordinate columns, or invalid
            coordinates (naming the rows).
    """
    if spec == "geoclip":
        from geovario.models import published_gallery

        return Gallery(published_gallery(), "geoclip-100k")
    if spec.startswith("store:"):
        from geovario.store import open_store

        store = open_store(spec[len("store:"):])
        return Gallery(np.unique(store.coords, axis=0), f"store:{store.path}")
    from geovario.metrics.io import read_coord_csv

    table = read_coord_csv(Path(spec), id_required=False)
    return Gallery(table.coords, str(spec))
