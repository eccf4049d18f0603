"""Region-wise (non-stationary) semivariograms: the curve of each anchor's region.

One global semivariogram assumes a city and a desert decorrelate at the same rate. A
:class:`RegionalVariogram` keeps the global fit and, beside it, one curve per region of
training places (:mod:`~geovario.variogram.regions`: spherical k-means clusters, a place
belonging to its nearest centroid). Each region's curve is fitted on the pairs whose
anchor lies in the region (:mod:`~geovario.variogram.regional_pairs`), their bins shrunk
toward the global curve where the region has few pairs
(:mod:`~geovario.variogram.regional_fit`). The loss reads, for every (anchor, candidate)
pair, the curve of the anchor's region: :meth:`RegionalVariogram.for_anchors` gives γ,
sill and ranges per anchor row, and a global :class:`FittedVariogram` goes through the
same call as a regional variogram with no regions (:func:`as_regional`).

The JSON file is a global variogram file (``format: geovario.variogram``) with one more
key, ``regional`` (``version: 1``)::

    regional: {version, regions_requested, min_points, shrinkage_pairs, shrinkage_rule,
               assignment, regions: [{id, lat, lon, points, pairs: [per global bin],
               weights: [per bin], uses_global, range_km, sill, gamma_at_km,
               local: <variogram dict> | null, fitted: <variogram dict> | null}, ...]}

``pairs`` are ordered pairs anchored in the region per bin of the global fit,
``weights`` the shrinkage weights n / (n + shrinkage_pairs), ``fitted`` the curve the
loss uses, fitted to the shrunk bins (which it holds as its ``bins``, each with n + κ
pairs; null when the region uses the global fit itself, ``uses_global``), ``local`` the
region's unshrunk fit, for comparison (null when its own bins are too few). A reader
that knows only global files reads the global fit from the top level, and
:func:`load_variogram` reads a global file as before. ``geovario variogram --regions
auto`` adds a top-level ``region_selection`` (how K was chosen, see
:class:`~geovario.variogram.regional_select.RegionSelection`), to a global file too
when K = 1 wins; loading ignores it.
"""

import json
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from geovario.errors import GeovarioError
from geovario.fileio import write_json_atomic
from geovario.variogram.fitted import FittedVariogram
from geovario.variogram.regions import nearest_region
from geovario.variogram.structures import REPORT_KM

REGIONAL_VERSION = 1
#: κ: a bin of this many ordered pairs counts half its own and half the global curve
#: (why: :mod:`~geovario.variogram.regional_fit`).
DEFAULT_SHRINKAGE_PAIRS = 100.0
SHRINKAGE_RULE = ("per bin k the global fit used: w_k = n_k / (n_k + shrinkage_pairs), n_k "
                  "the ordered pairs anchored in the region; the bin's value becomes "
                  "w_k * gamma_region_k + (1 - w_k) * gamma_global(lag_k), its pairs "
                  "n_k + shrinkage_pairs, and the region's curve is fitted to those bins")
ASSIGNMENT = "nearest centroid: the largest cosine between unit vectors of place and centroid"


@dataclass(frozen=True)
class Region:
    """One region: centroid, places, pairs per global bin, the curve used, its own fit."""

    lat: float
    lon: float
    points: int
    pairs: np.ndarray
    fitted: FittedVariogram
    local: FittedVariogram | None = None

    def weights(self, shrinkage_pairs: float) -> np.ndarray:
        """Shrinkage weight of the region's own value per bin, n / (n + shrinkage_pairs)."""
        total = self.pairs + shrinkage_pairs
        return np.divide(self.pairs, total, out=np.zeros(len(self.pairs)), where=total > 0)


@dataclass(frozen=True)
class AnchorCurves:
    """The variogram of each anchor's region, for one batch of anchors (rows).

    The spatial correlation of a pair is 1 − γ/sill, from :meth:`gamma` and ``sill``.
    ``fits`` are the distinct curves; ``rows`` says which one each anchor uses (None: all
    use ``fits[0]``, and ``sill`` and the ranges are plain floats, so a global variogram
    gives exactly what it gives alone). Otherwise ``sill``, ``range_km`` and
    ``slope_range_km`` are (B, 1) columns that broadcast against (B, C) distances.
    """

    fits: tuple[FittedVariogram, ...]
    rows: Any
    sill: Any
    range_km: Any
    slope_range_km: Any

    def gamma(self, h_km):
        """γ of each row's curve at distances h (B, …), numpy or torch.

        Each curve evaluates its own rows (gathered by index, which is three times faster
        than boolean masks in torch on a CPU).
        """
        if self.rows is None:
            return self.fits[0].gamma(h_km)
        if isinstance(h_km, np.ndarray):
            out = np.empty_like(h_km)
            for group, fit in enumerate(self.fits):
                index = np.flatnonzero(self.rows == group)
                out[index] = fit.gamma(h_km[index])
            return out
        out = h_km.new_empty(h_km.shape)
        for group, fit in enumerate(self.fits):
            index = (self.rows == group).nonzero().squeeze(1)
            if len(index):
                out.index_copy_(0, index, fit.gamma(h_km.index_select(0, index)))
        return out


class RegionalVariogram:
    """A global fit and one curve per region; with no regions, the global fit alone.

    Any other attribute a variogram has (``dissimilarity``, ``empirical``, ``sill``,
    ``range_km``, ``warnings``, …) is the global fit's, so code written for one global
    fit (the trainer, a refit's warnings, a custom loss) reads the global curve.
    """

    def __init__(self, global_fit: FittedVariogram, regions: tuple[Region, ...] = (), *,
                 shrinkage_pairs: float = DEFAULT_SHRINKAGE_PAIRS, min_points: int = 0,
                 requested: int | None = None):
        self.global_fit, self.regions = global_fit, tuple(regions)
        self.shrinkage_pairs, self.min_points = float(shrinkage_pairs), int(min_points)
        self.requested = len(self.regions) if requested is None else int(requested)

    @property
    def centroids_deg(self) -> np.ndarray:
        """(K, 2) latitude/longitude of the regions' centroids."""
        return np.array([[r.lat, r.lon] for r in self.regions], dtype=np.float64).reshape(-1, 2)

    def region_of(self, coords_deg):
        """Region of each place (nearest centroid), numpy or torch.

        Raises:
            GeovarioError: "variogram: a global variogram has no regions".
        """
        if not self.regions:
            raise GeovarioError("variogram: a global variogram has no regions")
        return nearest_region(coords_deg, self.centroids_deg)

    def fit_of(self, region: int | None = None) -> FittedVariogram:
        """The curve of a region (its shrunk fit); the global fit for None."""
        return self.global_fit if region is None else self.regions[region].fitted

    @cached_property
    def _groups(self) -> tuple[tuple[FittedVariogram, ...], np.ndarray]:
        """Distinct curves and, per region, the index of its curve among them."""
        fits, keys, index = [], [], []
        for fit in [r.fitted for r in self.regions] or [self.global_fit]:
            key = (fit.nugget, fit.structures, fit.max_lag_km)
            if key not in keys:
                keys.append(key)
                fits.append(fit)
            index.append(keys.index(key))
        return tuple(fits), np.array(index, dtype=np.int64)

    @property
    def distinct_fits(self) -> tuple[FittedVariogram, ...]:
        """The distinct curves, in the order :attr:`AnchorCurves.rows` indexes them."""
        return self._groups[0]

    @cached_property
    def _tables(self) -> dict[str, np.ndarray]:
        fits = self._groups[0]
        return {"sill": np.array([f.sill for f in fits]),
                "range_km": np.array([f.range_km for f in fits]),
                "slope_range_km": np.array([f.slope_range_km() for f in fits])}

    def for_anchors(self, anchor_coords, dtype=None) -> AnchorCurves:
        """The curves a batch of anchors (B, 2 degrees) uses, as :class:`AnchorCurves`.

        Torch anchors give torch columns (``dtype``, default float32, on their device);
        numpy anchors numpy ones (float64).
        """
        fits, index = self._groups
        tables = self._tables
        if len(fits) == 1:
            return AnchorCurves(fits, None, *(float(tables[k][0]) for k in
                                               ("sill", "range_km", "slope_range_km")))
        if isinstance(anchor_coords, np.ndarray):
            rows = index[self.region_of(anchor_coords)]
            columns = [tables[k][rows][:, None] for k in ("sill", "range_km", "slope_range_km")]
            return AnchorCurves(fits, rows, *columns)
        import torch

        rows = torch.as_tensor(index, device=anchor_coords.device)[self.region_of(anchor_coords)]
        columns = [torch.as_tensor(tables[k], dtype=dtype or torch.float32,
                                   device=anchor_coords.device)[rows][:, None]
                   for k in ("sill", "range_km", "slope_range_km")]
        return AnchorCurves(fits, rows, *columns)

    def gamma(self, h_km, anchor_coords=None):
        """γ(h): of each anchor's region (rows of h) with ``anchor_coords``, else global."""
        if anchor_coords is None:
            return self.global_fit.gamma(h_km)
        return self.for_anchors(anchor_coords).gamma(h_km)

    def gamma_at_km(self, distances_km=REPORT_KM, region: int | None = None) -> dict[str, float]:
        """γ of a region's curve (the global one for None) at 1, 25, 200, 750, 2,500 km."""
        return self.fit_of(region).gamma_at_km(distances_km)

    def slope_range_km(self, *args) -> float:
        """The global fit's slope range (see :meth:`FittedVariogram.slope_range_km`)."""
        return self.global_fit.slope_range_km(*args)

    def warn(self) -> None:
        """Print the global fit's warnings (see :attr:`FittedVariogram.warnings`)."""
        self.global_fit.warn()

    def __getattr__(self, name: str):
        # dissimilarity, empirical, min_pairs, sill, range_km, range_bound, warnings, model…
        if name.startswith("_") or name in ("global_fit", "regions"):
            raise AttributeError(name)
        return getattr(self.global_fit, name)

    def with_curves(self, global_fit: FittedVariogram,
                    fits: list[FittedVariogram]) -> "RegionalVariogram":
        """The same regions (places, pairs, local fits) with other curves: a refit's blend."""
        regions = tuple(replace(r, fitted=fit) for r, fit in zip(self.regions, fits,
                                                                 strict=True))
        return RegionalVariogram(global_fit, regions, shrinkage_pairs=self.shrinkage_pairs,
                                 min_points=self.min_points, requested=self.requested)

    def to_dict(self) -> dict:
        """The global fit's dict with the ``regional`` key (see the module docstring)."""
        regions = []
        for i, r in enumerate(self.regions):
            uses_global = r.fitted is self.global_fit
            regions.append({
                "id": i, "lat": r.lat, "lon": r.lon, "points": r.points,
                "pairs": [int(n) for n in r.pairs],
                "weights": [float(w) for w in r.weights(self.shrinkage_pairs)],
                "uses_global": uses_global, "range_km": r.fitted.range_km,
                "sill": r.fitted.sill, "gamma_at_km": r.fitted.gamma_at_km(),
                "local": None if r.local is None else r.local.to_dict(),
                "fitted": None if uses_global else r.fitted.to_dict()})
        return {**self.global_fit.to_dict(), "regional": {
            "version": REGIONAL_VERSION, "regions_requested": self.requested,
            "min_points": self.min_points, "shrinkage_pairs": self.shrinkage_pairs,
            "shrinkage_rule": SHRINKAGE_RULE, "assignment": ASSIGNMENT, "regions": regions}}

    @classmethod
    def from_dict(cls, data: dict, source: str = "variogram") -> "RegionalVariogram":
        """Rebuild from :meth:`to_dict` output (a global file gives no regions).

        Raises:
            GeovarioError: "<source>: ..." as :meth:`FittedVariogram.from_dict`, or for a
                ``regional`` part of another version or with a missing field.
        """
        global_fit = FittedVariogram.from_dict(data, source)
        part = data.get("regional")
        if part is None:
            return cls(global_fit)
        if part.get("version") != REGIONAL_VERSION:
            raise GeovarioError(f"{source}: regional variogram version {part.get('version')!r}, "
                                f"this geovario reads version {REGIONAL_VERSION}")
        try:
            regions = tuple(Region(
                float(r["lat"]), float(r["lon"]), int(r["points"]),
                np.array(r["pairs"], dtype=np.int64),
                global_fit if r["fitted"] is None else FittedVariogram.from_dict(r["fitted"],
                                                                                 source),
                None if r["local"] is None else FittedVariogram.from_dict(r["local"], source))
                for r in part["regions"])
            return cls(global_fit, regions, shrinkage_pairs=part["shrinkage_pairs"],
                       min_points=part["min_points"], requested=part["regions_requested"])
        except KeyError as missing:
            raise GeovarioError(f"{source}: regional variogram: missing field {missing}") \
                from None

    def save(self, path: str | Path) -> None:
        """Write the JSON file atomically."""
        write_json_atomic(Path(path), self.to_dict())


def as_regional(variogram: "FittedVariogram | RegionalVariogram") -> RegionalVariogram:
    """A regional variogram as it is; a global fit as one with no regions."""
    return variogram if isinstance(variogram, RegionalVariogram) else \
        RegionalVariogram(variogram)


def variogram_from_dict(data: dict, source: str = "variogram"):
    """A :class:`RegionalVariogram` for a file with regions, else a :class:`FittedVariogram`."""
    if data.get("regional") is None:
        return FittedVariogram.from_dict(data, source)
    return RegionalVariogram.from_dict(data, source)


def load_variogram(path: str | Path):
    """Read a variogram file: regional (:class:`RegionalVariogram`) or global.

    Raises:
        GeovarioError: "<path>: ..." for a missing file, invalid JSON or a bad variogram.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise GeovarioError(f"{path}: no such variogram file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise GeovarioError(f"{path}: not valid JSON ({error})") from None
    return variogram_from_dict(data, source=str(path))
