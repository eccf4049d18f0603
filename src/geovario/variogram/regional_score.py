"""Scoring variograms on held-out places: how well each predicts the dissimilarity of their pairs.

A candidate (the global fit, or a :class:`~geovario.variogram.regional.RegionalVariogram`)
predicts the dissimilarity of an ordered pair (i, j) of held-out places, i ≠ j, by the
curve of i's region at their distance, γ_r(i)(h_ij), as the loss reads it. Its score is
the mean squared prediction error of those pairs, bin by bin on the global fit's bins,
the bins weighted as the fit weights them:

    S = Σ_k ω_k E_k / Σ_k ω_k,   E_k = (1 / N_k) Σ_{(i, j) in bin k} (d_ij − γ_r(i)(h_ij))²,

N_k the held-out pairs in bin k, ω_k = ``bin_weights(N_k, weighting)`` (balanced:
N_k / (1 + N_k / 2000)); bins with fewer than ``min_pairs`` held-out pairs are left out.
Every candidate is scored on the same pairs and the same bins, so scores compare.

Why pair errors and not the error of bin means: the bin means of a candidate with K
regions are taken over *its* cells (region × bin), and a coarser partition hides in its
cells' spread exactly the regional differences it fails to model. For K = 1 the global
bin mean of a two-region field is the mixture of both regions' values, which a global
curve fits well, while neither region is predicted well. The squared error of each pair
is E_k = within-cell variance + (cell mean − prediction)², summed over cells: scoring only
the second term favours the coarsest partition. E_k is the loss the conditional mean
minimises, so in expectation the true regional curves score lowest.

Why the fit's bin weights: with pair counts alone the millions of pairs at continental
lags decide, while the regions' curves differ most at short lags; the weights that
decided how much each bin counted in the fits decide here too.

Why both ends held out: a pair with one end among the fitted places shares that place's
features with the fitted bins, so the fitted curves' noise would partly reappear in the
score and reward overfitting. With both ends held out no place enters both.

Standard errors: pairs that share places are not independent, and nearby places share
the field. The error of a *difference* of two candidates' scores is estimated by the
delete-one-block jackknife over spatial blocks (k-means clusters of the held-out places):
block b deleted removes every pair with an end in b, and
SE² = (B − 1)/B · Σ_b (Δ_−b − mean Δ)². Differences are paired (same pairs), so the
pairs' common noise, much larger than the candidates' differences, cancels.
"""

from dataclasses import dataclass

import numpy as np

from geovario.geo.distance import chord_to_km, km_to_chord, unit_vectors
from geovario.variogram.fit import bin_weights
from geovario.variogram.pair_ops import exact_chords
from geovario.variogram.regional import as_regional
from geovario.variogram.regional_pairs import TILE_PAIRS, pair_dissimilarity, prepared_features
from geovario.variogram.regions import find_regions, nearest_region


@dataclass(frozen=True)
class PairErrors:
    """Held-out pairs and candidates' squared errors per (bin, anchor block, partner block).

    ``counts`` is (bins, B, B); ``squared`` (candidates, bins, B, B).
    """

    counts: np.ndarray
    squared: np.ndarray


def spatial_blocks(coords_deg, blocks: int, seed: int = 0) -> np.ndarray:
    """Block of each place: the nearest of ``blocks`` k-means centroids of the places."""
    centroids = find_regions(coords_deg, max(1, min(blocks, len(coords_deg))), min_points=1,
                             seed=seed)
    return nearest_region(np.asarray(coords_deg, dtype=np.float64), centroids)


def pair_errors(coords_deg, features, candidates, edges_km, blocks, *,
                n_blocks: int | None = None, dissimilarity: str = "cosine") -> PairErrors:
    """Squared prediction errors of every ordered pair of the places, summed per cell.

    Args:
        coords_deg, features: the held-out places (N × 2 degrees) and their features.
        candidates: fitted variograms, global or region-wise; each pair (i, j) is predicted
            by the curve of i's region.
        edges_km: the bins (the global fit's).
        blocks: (N,) spatial block of each place, 0 … B − 1.
        n_blocks: B (default: the largest block + 1), so cells of several calls add up.
        dissimilarity: ``cosine`` or ``euclidean``, as the fits'.
    """
    units = unit_vectors(coords_deg)
    feats = np.asarray(features, dtype=np.float64)
    feats = prepared_features(feats[:, None] if feats.ndim == 1 else feats, dissimilarity)
    blocks = np.asarray(blocks, dtype=np.int64)
    n = len(units)
    n_blocks = int(blocks.max()) + 1 if n_blocks is None else n_blocks
    edges = np.asarray(edges_km, dtype=np.float64)
    chords, k = km_to_chord(edges), len(edges) - 1
    size = k * n_blocks * n_blocks
    curves = [as_regional(c) for c in candidates]
    counts, squared = np.zeros(size), np.zeros((len(curves), size))
    rows = max(1, TILE_PAIRS // max(n, 1))
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        chord = exact_chords(units[start:stop], units)
        chord[np.arange(stop - start), np.arange(start, stop)] = -1.0  # i ≠ j
        index = np.searchsorted(chords[1:], chord, side="right")
        keep = (chord >= chords[0]) & (index < k)
        h = np.where(keep, chord_to_km(np.clip(chord, 0.0, 2.0)), 0.0)
        cell = (index * n_blocks + blocks[start:stop, None]) * n_blocks + blocks[None, :]
        cell = cell[keep]
        counts += np.bincount(cell, minlength=size)
        d = pair_dissimilarity(feats[start:stop], feats, dissimilarity)
        anchors = np.asarray(coords_deg, dtype=np.float64)[start:stop]
        for c, curve in enumerate(curves):
            error = (d - curve.for_anchors(anchors).gamma(h)) ** 2
            squared[c] += np.bincount(cell, error[keep], minlength=size)
    shape = (k, n_blocks, n_blocks)
    return PairErrors(counts.reshape(shape), squared.reshape((len(curves), *shape)))


def weighted_scores(squared: np.ndarray, counts: np.ndarray, keep: np.ndarray,
                    weighting: str) -> np.ndarray:
    """S per candidate from per-bin sums: (candidates, bins) errors, (bins,) pair counts."""
    n = counts[keep]
    w = np.where(n > 0, bin_weights(n, weighting), 0.0)
    mean = np.divide(squared[:, keep], n, out=np.zeros_like(squared[:, keep]), where=n > 0)
    return (mean * w).sum(axis=1) / w.sum()


def scores(errors: PairErrors, keep: np.ndarray, weighting: str) -> np.ndarray:
    """S of every candidate on all held-out pairs."""
    return weighted_scores(errors.squared.sum(axis=(2, 3)), errors.counts.sum(axis=(1, 2)),
                           keep, weighting)


def jackknife_scores(errors: PairErrors, keep: np.ndarray, weighting: str) -> np.ndarray:
    """(B, candidates): S with every pair touching block b deleted, for each b."""
    counts, squared = errors.counts, errors.squared
    total_n, total_s = counts.sum(axis=(1, 2)), squared.sum(axis=(2, 3))
    out = []
    for b in range(counts.shape[1]):
        n = total_n - counts[:, b, :].sum(1) - counts[:, :, b].sum(1) + counts[:, b, b]
        s = (total_s - squared[:, :, b, :].sum(2) - squared[:, :, :, b].sum(2)
             + squared[:, :, b, b])
        out.append(weighted_scores(s, n, keep, weighting))
    return np.array(out)


def difference_errors(jackknife: np.ndarray, best: int) -> np.ndarray:
    """Jackknife standard error of S_c − S_best for every candidate c (0 for the best)."""
    blocks = len(jackknife)
    if blocks < 2:
        return np.full(jackknife.shape[1], np.nan)
    diff = jackknife - jackknife[:, best:best + 1]
    return np.sqrt((blocks - 1) / blocks * ((diff - diff.mean(axis=0)) ** 2).sum(axis=0))
