"""Fitting a region-wise variogram: regions, their bins, and shrinkage toward the global fit.

For each region r (:func:`~geovario.variogram.regions.find_regions`) the pairs anchored
in it are binned on the global fit's bins (:mod:`~geovario.variogram.regional_pairs`).
Where a region has few pairs its bins are noise, so each bin is shrunk toward the global
curve before the region's curve is fitted (a James–Stein-like compromise on γ values at
the bins' lags, never on parameters):

    w_k = n_k / (n_k + κ),   γ̃_k = w_k·γ̂_k + (1 − w_k)·γ_global(h_k),

n_k the region's ordered pairs in bin k, γ̂_k their mean dissimilarity, h_k their mean
distance, κ = ``shrinkage_pairs``: a bin of κ pairs counts half its own and half the
global curve. In Bayesian terms the global curve is a prior worth κ pairs and γ̃_k the
posterior mean, so a shrunk bin enters the fit as n_k + κ pairs (bins the global fit left
out stay as they are). The shrunk bins are then fitted by the very code that fitted the
global ones (:func:`~geovario.variogram.fit.fit_variogram`: the global fit's weighting
and ``min_pairs``; ``model``, by default every family by AICc), so every region has a
nugget, sill and practical range that mean what the global fit's mean. ``model=None``
fits every region in the global fit's family instead (regions then differ in nugget,
sill and range, not in shape; a few ms per region instead of about 0.8 s).

A region with no pairs at all uses the global fit itself, and so does a region whose
curve does not level off within the lags (its practical range clipped at the largest lag
or half the circumference) where the global curve does: no region of the Earth
decorrelates over more than the largest distance between its places and the rest, so
such a range is the fit's artefact (a structure rising slowly over the farthest,
antipodal bins), and it would leave the region's anchors without far negatives. Either
choice of family can end there: on the fine Blue Marble layout (5,000 places, 7 regions)
one region of 276 places took, by AICc, a Gaussian second structure of range 49,000 km
(range clipped at 16,451 km, sill 26 % above the global one, so pairs 2,500 km apart
counted as 21 % correlated); in the global family it clipped too. On the blocked layout
(20 regions) AICc clipped none and the global family two. The region's unshrunk fit is
kept beside it, for comparison only.

Why κ = 100 by default: with independent pairs the rule is the posterior mean of a
bin whose per-pair spread is σ and whose regional values scatter by τ around the global
one, κ = σ²/τ². On 3,000 Blue Marble places (EfficientNet-Lite0 features, 4 regions, bins
of 1,000+ pairs) σ = 0.08–0.14 and τ = 0.01–0.04, so σ²/τ² = 11–225 (median about 40);
pairs that share places are worth less than independent ones, so κ = 100 leans toward
the global curve.
"""

import contextlib
import sys

import numpy as np

from geovario.errors import GeovarioError
from geovario.geo.validate import validate_coords
from geovario.variogram.empirical import EmpiricalVariogram
from geovario.variogram.fit import fit_variogram
from geovario.variogram.fitted import FittedVariogram
from geovario.variogram.regional import DEFAULT_SHRINKAGE_PAIRS, Region, RegionalVariogram
from geovario.variogram.regional_pairs import regional_empirical
from geovario.variogram.regions import find_regions, nearest_region

#: A region holds at least this many places; thinner clusters are merged away.
DEFAULT_MIN_POINTS = 100
#: Places the regional pass uses at most (N² ordered pairs: 10⁸ at 10,000).
DEFAULT_SAMPLE = 10_000


def shrinkage_weights(pairs, shrinkage_pairs: float) -> np.ndarray:
    """w_k = n_k / (n_k + κ) per bin."""
    counts = np.asarray(pairs, dtype=np.float64)
    return counts / (counts + shrinkage_pairs)


def shrunk_bins(region: EmpiricalVariogram, global_fit: FittedVariogram,
                shrinkage_pairs: float) -> EmpiricalVariogram:
    """The region's bins shrunk toward the global curve (the module's rule).

    Only bins the global fit used are shrunk (they then hold n_k + κ pairs, and an empty
    one the global curve at the global bin's lag); the others stay as they are.
    """
    glob = global_fit.empirical
    used = (glob.pairs >= max(global_fit.min_pairs, 1)) & np.isfinite(glob.gamma)
    n = region.pairs.astype(np.float64)
    w = shrinkage_weights(n, shrinkage_pairs)
    lag = np.where(n > 0, region.lag_km, glob.lag_km)
    own = np.nan_to_num(region.gamma)
    gamma = np.where(used, w * own + (1 - w) * global_fit.gamma(lag), region.gamma)
    spread = np.where(used, w * np.nan_to_num(region.spread) + (1 - w) * glob.spread,
                      region.spread)
    pairs = np.where(used, np.round(n + shrinkage_pairs), n).astype(np.int64)
    return EmpiricalVariogram(region.bin_edges_km, np.where(used, lag, region.lag_km), gamma,
                              pairs, spread, region.dissimilarity, region.estimator,
                              region.n_points)


def fit_regional_variogram(coords_deg, features, global_fit: FittedVariogram, *,
                           regions: int, min_points: int = DEFAULT_MIN_POINTS,
                           shrinkage_pairs: float = DEFAULT_SHRINKAGE_PAIRS,
                           centroids_deg=None, model: str | None = "auto",
                           sample: int | None = DEFAULT_SAMPLE, seed: int = 0,
                           warn: bool = True) -> RegionalVariogram:
    """Regions of the places, each one's curve shrunk toward ``global_fit``.

    Args:
        coords_deg, features: the places (N × 2 degrees) and their features, as given to
            the global fit.
        global_fit: the global fit, with its empirical bins (the regions use its bins,
            weighting, ``min_pairs`` and dissimilarity).
        regions: how many regions k-means looks for (fewer when clusters are thin).
        min_points: the fewest places a region may hold.
        shrinkage_pairs: κ of the shrinkage rule.
        centroids_deg: keep these regions (K × 2 degrees) instead of finding new ones, as
            a refit does.
        model: the regions' model, as ``fit_variogram`` takes it ("auto": each region's
            best by AICc, about 0.8 s per fit on two cores); None: the global fit's.
        sample: use at most this many random places (the pass is N² pairs).
        seed: of the sample and of k-means.
        warn: say on stderr when fewer regions than asked for were found.

    Raises:
        GeovarioError: "variogram: ..." for a global fit without bins or not by Matheron's
            estimator, a non-positive κ, bad coordinates or features, or regions < 1.
    """
    coords = validate_coords(coords_deg, source="variogram: coordinates")
    values = np.asarray(features)
    if global_fit.empirical is None or global_fit.estimator != "matheron":
        raise GeovarioError("variogram: region-wise fits need the global fit's bins and "
                            "Matheron's estimator")
    if not shrinkage_pairs > 0:
        raise GeovarioError(f"variogram: shrinkage_pairs must be positive, got "
                            f"{shrinkage_pairs}")
    if sample is not None and len(coords) > sample:
        rows = np.sort(np.random.default_rng(seed).choice(len(coords), sample, replace=False))
        coords, values = coords[rows], values[rows]
    centroids = (find_regions(coords, regions, min_points=min_points, seed=seed)
                 if centroids_deg is None else np.asarray(centroids_deg, dtype=np.float64))
    settings = dict(shrinkage_pairs=shrinkage_pairs, min_points=min_points, requested=regions)
    if len(centroids) == 1:
        if warn:
            print(f"variogram: warning: no two regions of {min_points}+ places; the "
                  "region-wise variogram is the global one", file=sys.stderr)
        return RegionalVariogram(global_fit, **settings)
    if warn and len(centroids) < regions:
        print(f"variogram: warning: {len(centroids)} of {regions} regions hold "
              f"{min_points}+ places", file=sys.stderr)
    model = global_fit.model if model is None else model
    labels = nearest_region(coords, centroids)
    bins = regional_empirical(coords, values, labels, len(centroids),
                              global_fit.empirical.bin_edges_km,
                              dissimilarity=global_fit.dissimilarity)
    return RegionalVariogram(global_fit, tuple(
        _region(centre, emp, global_fit, shrinkage_pairs, model)
        for centre, emp in zip(centroids, bins, strict=True)), **settings)


def _region(centre, emp: EmpiricalVariogram, global_fit: FittedVariogram,
            shrinkage_pairs: float, model: str) -> Region:
    """A region's shrunk fit (the global one without pairs) and its unshrunk fit."""
    settings = dict(model=model, weighting=global_fit.fit.weighting,
                    min_pairs=global_fit.min_pairs, warn=False)
    local = fitted = None
    if emp.pairs.sum() > 0:
        with contextlib.suppress(GeovarioError):  # too few bins of its own: no local fit
            local = fit_variogram(emp, **settings)
        with contextlib.suppress(GeovarioError):
            fitted = fit_variogram(shrunk_bins(emp, global_fit, shrinkage_pairs), **settings)
    if fitted is not None and fitted.range_bound is not None and global_fit.range_bound is None:
        fitted = None  # a range clipped at a bound is the fit's artefact, not the region's
    return Region(float(centre[0]), float(centre[1]), emp.n_points, emp.pairs,
                  global_fit if fitted is None else fitted, local)
