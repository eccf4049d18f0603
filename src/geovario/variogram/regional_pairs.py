"""Empirical semivariograms per region: the pairs whose *anchor* lies in the region.

For region r and bin k the estimate averages d_ij over the ordered pairs (i, j), i ≠ j,
with i in r and j anywhere, as the loss sees them: an anchor in r compares itself with
every candidate, wherever it is. Each unordered pair so counts once in its anchor's
region and once in its partner's, and the regions' bins add up to the global ones:
Σ_r N_rk = 2 N_k and Σ_r N_rk γ_rk / Σ_r N_rk = γ_k (Matheron's estimator), which the
tests check against :func:`~geovario.variogram.empirical.empirical_variogram`.

Bins, lags and dissimilarities follow the global pass: half-open bins decided on exact
float64 chords, the lag of a bin is the mean distance of its pairs, cosine features
normalised and multiplied in float32 (float64 for D ≤ 3), sums in float64. One pass in
numpy over tiles of anchors × all places: N² ordered pairs (twice the global pass).
"""

import numpy as np

from geovario.errors import GeovarioError
from geovario.geo.distance import chord_to_km, km_to_chord, unit_vectors
from geovario.variogram.empirical import EmpiricalVariogram
from geovario.variogram.pair_ops import exact_chords

#: Pairs per tile of the pass (anchor rows × all places): about 32 MB per float64 array.
TILE_PAIRS = 1 << 22


def regional_empirical(coords_deg, features, labels, n_regions: int, edges_km, *,
                       dissimilarity: str = "cosine") -> list[EmpiricalVariogram]:
    """One :class:`EmpiricalVariogram` per region (Matheron) on the given bin edges.

    Args:
        coords_deg: (N, 2) latitude/longitude of the places, degrees.
        features: (N, D) features (N, for a scalar field).
        labels: (N,) region of each place, 0 … n_regions − 1.
        n_regions: how many regions (a region without places gets empty bins).
        edges_km: bin edges (those of the global fit, so bins line up).
        dissimilarity: ``cosine`` or ``euclidean``, as in ``empirical_variogram``.

    Raises:
        GeovarioError: "variogram: ..." for an unknown dissimilarity, lengths that differ,
            or zero feature vectors with cosine.
    """
    units = unit_vectors(coords_deg)
    feats = np.asarray(features, dtype=np.float64)
    feats = feats[:, None] if feats.ndim == 1 else feats
    labels = np.asarray(labels, dtype=np.int64)
    n = len(units)
    if len(feats) != n or len(labels) != n:
        raise GeovarioError(f"variogram: {n} places but {len(feats)} feature rows and "
                            f"{len(labels)} region labels")
    feats = prepared_features(feats, dissimilarity)
    edges = np.asarray(edges_km, dtype=np.float64)
    chords = km_to_chord(edges)
    k = len(edges) - 1
    sums = np.zeros((4, n_regions * (k + 1)))  # count, Σh, Σd, Σd² per (region, bin)
    rows = max(1, TILE_PAIRS // max(n, 1))
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        chord = exact_chords(units[start:stop], units)
        chord[chord < chords[0]] = np.inf
        chord[np.arange(stop - start), np.arange(start, stop)] = np.inf  # i ≠ j
        index = np.searchsorted(chords[1:], chord, side="right")
        index += labels[start:stop, None] * (k + 1)
        d = pair_dissimilarity(feats[start:stop], feats, dissimilarity).reshape(-1)
        index = index.reshape(-1)
        size = sums.shape[1]
        sums[0] += np.bincount(index, minlength=size)
        sums[1] += np.bincount(index, chord_to_km(np.minimum(chord, 2.0)).reshape(-1),
                               minlength=size)
        sums[2] += np.bincount(index, d, minlength=size)
        sums[3] += np.bincount(index, d * d, minlength=size)
    per_region = sums.reshape(4, n_regions, k + 1)[:, :, :k]
    counts = np.bincount(labels, minlength=n_regions)
    return [_result(per_region[:, r], edges, dissimilarity, int(counts[r]))
            for r in range(n_regions)]


def prepared_features(feats: np.ndarray, dissimilarity: str) -> np.ndarray:
    """Features in the dtype of their products, unit length for cosine."""
    if dissimilarity not in ("cosine", "euclidean"):
        raise GeovarioError(f"variogram: unknown dissimilarity {dissimilarity!r} "
                            "(choose from cosine, euclidean)")
    dtype = np.float64 if feats.shape[1] <= 3 else np.float32
    if dissimilarity == "cosine":
        norms = np.linalg.norm(feats, axis=1)
        if (norms == 0).any():
            rows = np.flatnonzero(norms == 0)[:5].tolist()
            raise GeovarioError(f"variogram: cosine dissimilarity of zero feature vectors at "
                                f"rows {rows}")
        feats = feats / norms[:, None]
    return feats.astype(dtype)


def pair_dissimilarity(fa: np.ndarray, fb: np.ndarray, dissimilarity: str) -> np.ndarray:
    """Dissimilarity of every pair of two blocks, in float64: 1 − cos, or ½‖Δ‖²."""
    if dissimilarity == "cosine":
        return 1.0 - (fa @ fb.T).astype(np.float64)
    if fa.shape[1] <= 3:
        return 0.5 * sum((fa[:, c, None] - fb[None, :, c]) ** 2 for c in range(fa.shape[1]))
    sq = ((fa * fa).sum(1)[:, None] + (fb * fb).sum(1)[None, :] - 2.0 * (fa @ fb.T))
    return 0.5 * np.maximum(sq, 0.0).astype(np.float64)


def _result(sums: np.ndarray, edges: np.ndarray, dissimilarity: str,
            points: int) -> EmpiricalVariogram:
    count = sums[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        lag, gamma = sums[1] / count, sums[2] / count
        spread = np.sqrt(np.maximum(sums[3] / count - gamma**2, 0.0))
    return EmpiricalVariogram(edges, lag, gamma, count.astype(np.int64), spread,
                              dissimilarity, "matheron", points)
