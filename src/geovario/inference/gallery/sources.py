"""Where candidate locations for retrieval come from, looked up by name.

``geoclip`` is the published 100K GPS gallery, ``store:DIR`` a store's distinct training
coordinates, ``csv:FILE`` (or a bare CSV path) a file with latitude/longitude. Specs joined
by ``+`` give their galleries one after the other (each as it is: the published 100K holds
some points twice, and keeps them): ``geoclip+store:stores/train`` is the 100K with the
training places added, so that test places a few km from a training
place have a candidate within a few km (the ``fine`` Blue Marble split).
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geovario.errors import GeovarioError
from geovario.registry import Registry


@dataclass(frozen=True)
class Gallery:
    """Candidate locations (G, 2), latitude/longitude in degrees, and where they came from."""

    coords: np.ndarray
    name: str

    def __len__(self) -> int:
        return len(self.coords)


#: Gallery builders by name; a prefix's builder gets the text after the colon.
GALLERIES: Registry[Callable[[str | None], Gallery]] = Registry("gallery")


def list_galleries() -> list[str]:
    """Names :func:`load_gallery` accepts (a bare CSV path works too)."""
    return GALLERIES.names()


def load_gallery(spec: str = "geoclip") -> Gallery:
    """A gallery by name; anything that is not a registered name is read as a CSV path.

    Raises:
        GeovarioError: for a missing file, a CSV without coordinate columns, or invalid
            coordinates (naming the rows).
    """
    parts = _parts(spec)
    if len(parts) > 1:
        galleries = [load_gallery(part) for part in parts]
        return Gallery(np.concatenate([g.coords for g in galleries]),
                       "+".join(g.name for g in galleries))
    builder, argument = GALLERIES.lookup(spec if spec in GALLERIES else f"csv:{spec}")
    return builder(argument)


def _parts(spec: str) -> list[str]:
    """The specs ``+`` joins; a spec whose path exists as written (``a+b.csv``) is one part."""
    path = spec.split(":", 1)[1] if spec in GALLERIES and ":" in spec else spec
    if "+" not in spec or Path(path).exists():
        return [spec]
    parts = spec.split("+")
    if not all(parts):
        raise GeovarioError(f"gallery {spec!r}: an empty part between '+' signs")
    return parts


@GALLERIES.register("geoclip")
def _geoclip(_: str | None) -> Gallery:
    from geovario.models import published_gallery

    return Gallery(published_gallery(), "geoclip-100k")


@GALLERIES.register("store:", spec="<feature store folder>")
def _store(folder: str | None) -> Gallery:
    if not folder:
        raise GeovarioError("gallery store: needs a folder, as in store:stores/train")
    from geovario.store import open_store

    store = open_store(folder)
    return Gallery(np.unique(store.coords, axis=0), f"store:{store.path}")


@GALLERIES.register("csv:", spec="<file with latitude, longitude>")
def _csv(path: str | None) -> Gallery:
    if not path:
        raise GeovarioError("gallery csv: needs a file, as in csv:places.csv")
    from geovario.metrics.io import read_coord_csv

    return Gallery(read_coord_csv(Path(path), id_required=False).coords, path)
