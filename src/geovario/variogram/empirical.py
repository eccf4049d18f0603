"""Empirical semivariogram of pair dissimilarity against great-circle distance.

All N(N−1)/2 pairs are visited in square tiles of ``chunk_size`` rows and columns
(memory O(chunk_size²), never N×N), on CPU or CUDA; or, for very large N, a
uniform random sample of pairs. Per-tile sums go into float64 bins.

Dissimilarities of features f_i, f_j:

- ``cosine``:    d_ij = 1 − cos(f_i, f_j) (the method's choice; equals ½‖f̂_i − f̂_j‖²);
- ``euclidean``: d_ij = ½‖f_i − f_j‖² (for a scalar field, ½(z_i − z_j)²).

Estimators per half-open bin [e_k, e_{k+1}) holding N_k pairs:

- Matheron:       γ_k = mean of d_ij (Matheron 1962);
- Cressie–Hawkins (euclidean only): γ_k = (mean ‖f_i − f_j‖^½)⁴ / (2(0.457 + 0.494/N_k
  + 0.045/N_k²)) (Cressie & Hawkins 1980), robust to outlying pairs.

The lag of a bin is the mean distance of its pairs, where fits are less biased than at
the bin centre (each pair's distance in float32, the sums in float64). Bin membership
is decided exactly, in float64.
"""

import math
from dataclasses import dataclass

import numpy as np

from geovario.arrays import astype, to_numpy
from geovario.errors import GeovarioError
from geovario.geo.distance import chord_to_km, km_to_chord, unit_vectors
from geovario.geo.validate import validate_coords
from geovario.progress import progress_bar
from geovario.variogram import pair_ops
from geovario.variogram.bins import standard_bins

DISSIMILARITIES = ("cosine", "euclidean")
ESTIMATORS = ("matheron", "cressie")
#: The pair sampler draws at least this many blocks (see :func:`sample_block_size`).
MIN_BLOCKS = 512
# Rows of the per-bin accumulator.
_COUNT, _SUM_H, _SUM_D, _SUM_D2, _SUM_ROOT = range(5)


@dataclass(frozen=True)
class EmpiricalVariogram:
    """Per-bin results as plain arrays (length K; edges K + 1). Empty bins hold NaN."""

    bin_edges_km: np.ndarray
    lag_km: np.ndarray
    gamma: np.ndarray
    pairs: np.ndarray
    spread: np.ndarray
    dissimilarity: str
    estimator: str
    n_points: int
    sampled_pairs: int | None = None


def _check_features(values) -> np.ndarray:
    """Features as an (N, D) array; a scalar field becomes (N, 1)."""
    array = np.asarray(values)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise GeovarioError(f"variogram: features must be an (N,) or (N, D) array, got shape "
                            f"{array.shape}")
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise GeovarioError(f"variogram: {len(rows)} feature rows contain NaN or inf, first at "
                            f"rows {rows[:5].tolist()}")
    return array


class _Accumulator:
    """Bins pairs by distance and sums (count, h, d, d², ‖Δ‖^½) per bin in float64.

    Pairs are binned by their chord c = ‖u_i − u_j‖ against the edges mapped to chords,
    c_e = 2·sin(e / 2R): the same half-open bins as great-circle distance, with no
    trigonometry per pair (chords of any shape: a tile or a batch of blocks). Pairs to
    skip get c = inf, which lands in an overflow bin. The chords' namespace (numpy or
    torch, see ``like``) is the pass's backend.
    Each pair's distance is taken in ``lag_dtype`` (float32 on a GPU, float64 on a CPU,
    where it costs little and the numpy and torch passes then agree to rounding).
    """

    def __init__(self, edges_km: np.ndarray, like, robust: bool, lag_dtype: str):
        chords = km_to_chord(np.asarray(edges_km, dtype=np.float64))
        self.lag_dtype = lag_dtype
        self.lowest = float(chords[0])
        self.inner = pair_ops.array_like(chords[1:], like, "float64")
        self.k = len(edges_km) - 1
        self.robust = robust
        self.sums = np.zeros((5, self.k + 1))

    def add(self, chord, d, root, keep=None) -> None:
        """Add pairs given by their chords (float64), dissimilarities d and optional ‖Δ‖^½."""
        if keep is not None:
            chord = chord * 1.0  # a copy, then inf where skipped
            chord[~keep] = math.inf
        if self.lowest > 0:
            chord = chord * 1.0
            chord[chord < self.lowest] = math.inf
        index = pair_ops.bin_index(chord, self.inner)
        d = astype(d.reshape(-1), "float64")
        terms = [None, chord_to_km(chord, self.lag_dtype).reshape(-1), d, d * d,
                 astype(root.reshape(-1), "float64") if self.robust else None]
        for column, weights in enumerate(terms):
            if column == _COUNT or weights is not None:
                self.sums[column] += to_numpy(pair_ops.bincount(index, weights, self.k + 1))

    def result(self, edges_km, dissimilarity, estimator, n_points, sampled) -> EmpiricalVariogram:
        """Turn the sums into per-bin lags, values, counts and spreads."""
        sums = self.sums[:, : self.k]
        count = sums[_COUNT]
        with np.errstate(invalid="ignore", divide="ignore"):
            lag = sums[_SUM_H] / count
            mean_d = sums[_SUM_D] / count
            spread = np.sqrt(np.maximum(sums[_SUM_D2] / count - mean_d**2, 0.0))
            if estimator == "cressie":
                gamma = ((sums[_SUM_ROOT] / count) ** 4
                         / (2 * (0.457 + 0.494 / count + 0.045 / count**2)))
            else:
                gamma = mean_d
        return EmpiricalVariogram(np.asarray(edges_km, dtype=np.float64), lag, gamma,
                                  count.astype(np.int64), spread, dissimilarity, estimator,
                                  n_points, sampled)


def _pair_terms(fa, fb, dissimilarity: str, robust: bool):
    """Dissimilarity (and ‖Δ‖^½ for Cressie–Hawkins) of all pairs of two blocks.

    Cosine features arrive L2-normalised, so d = 1 − f_a·f_b is one matrix product.
    Euclidean uses exact differences for D ≤ 3 (scalar fields stay exact in float64)
    and |a|² + |b|² − 2a·b beyond. Numpy arrays and torch tensors alike, of two blocks
    (rows × D) or of two batches of blocks (batch × rows × D).
    """
    if dissimilarity == "cosine":
        return 1.0 - fa @ fb.swapaxes(-1, -2), None
    if fa.shape[-1] <= 3:
        half_sq = 0.5 * sum((fa[..., :, c, None] - fb[..., None, :, c]) ** 2
                            for c in range(fa.shape[-1]))
    else:
        sq = ((fa * fa).sum(-1)[..., :, None] + (fb * fb).sum(-1)[..., None, :]
              - 2.0 * (fa @ fb.swapaxes(-1, -2)))
        half_sq = 0.5 * (sq * (sq > 0))
    root = ((2.0 * half_sq) ** 0.5) ** 0.5 if robust else None
    return half_sq, root


def empirical_variogram(coords_deg, values, bin_edges_km=None, *,
                        dissimilarity: str = "cosine", estimator: str = "matheron",
                        pairs: int | None = None, seed: int = 0, device: str = "cpu",
                        chunk_size: int = 1024, feature_dtype=None, backend: str = "auto",
                        progress: bool = False) -> EmpiricalVariogram:
    """Estimate the semivariogram of ``values`` (N, or N×D) at ``coords_deg`` (N×2 lat/lon).

    As GSTools' ``vario_estimate`` takes its edges from ``standard_bins``, the bin layout
    is computed before, once, by :func:`~geovario.variogram.bins.standard_bins` (or any
    increasing edges in km), and passed in.

    Args:
        bin_edges_km: K + 1 increasing edges in km; default ``standard_bins(coords_deg,
            seed=seed)``: [0, 1 km) then 5 log-spaced bins per decade up to the largest
            distance in a 2,000-point sample.
        dissimilarity: ``cosine`` or ``euclidean`` (see the module docstring).
        estimator: ``matheron`` or ``cressie`` (Cressie–Hawkins, euclidean only).
        pairs: when given, estimate from about this many uniformly sampled pairs (in
            at least ``MIN_BLOCKS`` small blocks, rounded up to whole blocks) instead of all.
        feature_dtype: dtype of the feature products (a name, numpy or torch dtype);
            default float64 for D ≤ 3 (exact), float32 beyond (one float32 matrix product
            per tile).
        backend: ``numpy`` or ``torch`` for the pair pass; ``auto``: numpy for an exact
            pass on the CPU up to ``NUMPY_MAX_PAIRS`` pairs (no torch to import), torch
            otherwise. Both give the same result up to rounding.

    Raises:
        GeovarioError: "variogram: ..." for fewer than two points, coordinates and features
            of different lengths, NaN features, zero feature vectors with cosine, an unknown
            dissimilarity or estimator, all points at one place, or no pair in any bin.
    """
    coords = validate_coords(coords_deg, source="variogram: coordinates")
    features = _check_features(values)
    if dissimilarity not in DISSIMILARITIES:
        raise GeovarioError(f"variogram: unknown dissimilarity {dissimilarity!r} "
                            f"(choose from {', '.join(DISSIMILARITIES)})")
    if estimator not in ESTIMATORS:
        raise GeovarioError(f"variogram: unknown estimator {estimator!r} "
                            f"(choose from {', '.join(ESTIMATORS)})")
    if estimator == "cressie" and dissimilarity != "euclidean":
        raise GeovarioError("variogram: the cressie estimator needs dissimilarity 'euclidean'")
    n = len(coords)
    if n < 2:
        raise GeovarioError(f"variogram: need at least two points, got {n}")
    if len(features) != n:
        raise GeovarioError(f"variogram: {n} coordinates but {len(features)} feature rows")
    units_np = unit_vectors(coords)
    if np.abs(units_np - units_np[0]).max() < 1e-12:
        raise GeovarioError("variogram: all points are at one place, so there is no distance "
                            "to relate dissimilarity to")
    if bin_edges_km is None:
        bin_edges_km = standard_bins(coords, seed=seed)
    edges = np.asarray(bin_edges_km, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0) or edges[0] < 0:
        raise GeovarioError("variogram: bin edges must be at least two increasing distances "
                            f">= 0 km, got {edges.tolist()}")

    if backend == "auto":
        backend = pair_ops.choose_backend(device, n, pairs)
    if backend not in ("numpy", "torch") or (
            backend == "numpy" and (str(device) != "cpu" or pairs is not None)):
        raise GeovarioError(f"variogram: backend must be torch, or numpy for an exact pass "
                            f"on the CPU; got {backend!r} on {device}"
                            f"{' with sampled pairs' if pairs is not None else ''}")
    dtype = (np.dtype(str(feature_dtype).removeprefix("torch.")).name if feature_dtype
             else "float64" if features.shape[1] <= 3 else "float32")
    feats = pair_ops.backend_array(features, backend, device, dtype)
    if dissimilarity == "cosine":
        norms = np.linalg.norm(np.asarray(features, dtype=np.float64), axis=1)
        if (norms == 0).any():
            rows = np.flatnonzero(norms == 0)[:5].tolist()
            raise GeovarioError(f"variogram: cosine dissimilarity of zero feature vectors at "
                                f"rows {rows}")
        feats = feats / pair_ops.array_like(norms, feats, dtype)[:, None]
    units = pair_ops.array_like(units_np, feats, "float64")
    robust = estimator == "cressie"
    lag_dtype = "float32" if str(device).startswith("cuda") else "float64"
    acc = _Accumulator(edges, units, robust, lag_dtype)
    if pairs is None:
        _all_pairs(acc, units, feats, dissimilarity, robust, chunk_size, progress)
    else:
        _sampled_pairs(acc, units, feats, dissimilarity, robust, pairs, seed, chunk_size,
                       progress)
    result = acc.result(edges, dissimilarity, estimator, n, pairs)
    if result.pairs.sum() == 0:
        raise GeovarioError(f"variogram: no pair of points is {edges[0]:g}-{edges[-1]:g} km "
                            "apart; widen the bins (max_km)")
    return result


def _all_pairs(acc, units, feats, dissimilarity, robust, chunk, progress) -> None:
    """Visit every unordered pair once: upper-triangular tiles, strict upper on the diagonal."""
    n = len(units)
    starts = range(0, n, chunk)
    tiles = [(a, b) for a in starts for b in starts if b >= a]
    for a, b in progress_bar(tiles, enabled=progress, desc="variogram pairs", unit="tile"):
        chord = pair_ops.chords(units[a:a + chunk], units[b:b + chunk])
        d, root = _pair_terms(feats[a:a + chunk], feats[b:b + chunk], dissimilarity, robust)
        acc.add(chord, d, root, pair_ops.upper(chord) if a == b else None)


def sample_block_size(pairs: int, chunk: int) -> int:
    """Rows per block of the pair sampler: at least ``MIN_BLOCKS`` blocks, at most ``chunk``.

    All pairs of a block share its rows, so the sampled bins move together with those
    few points: 300,000 pairs as one 2,048 × 147 block rest on 147 points of one side.
    Blocks of b × b pairs with b ≈ √(pairs / MIN_BLOCKS) spread them over thousands of
    points, and b is never below 4 (a block holds some pairs beyond its diagonal).
    """
    return int(min(max(round(math.sqrt(pairs / MIN_BLOCKS)), 4), max(chunk, 4)))


def _sampled_pairs(acc, units, feats, dissimilarity, robust, pairs, seed, chunk,
                   progress) -> None:
    """Estimate from about ``pairs`` random pairs, drawn as many small random blocks.

    Each block takes b rows and another b rows, each uniformly with replacement, and
    every pair between them (pairs of a row with itself are dropped); b is
    :func:`sample_block_size`. Every such pair is a uniform draw from all pairs, so each
    bin's mean estimates the all-pairs mean without bias. Blocks go through in batches
    of about chunk² pairs, one batched matrix product each, so memory stays as in the
    exact path.
    """
    if pairs < 1:
        raise GeovarioError(f"variogram: pairs must be at least 1, got {pairs}")
    import torch

    n = len(units)
    size = sample_block_size(pairs, chunk)
    blocks = -(-pairs // (size * size))
    per_batch = max(1, (chunk * chunk) // (size * size))
    generator = torch.Generator().manual_seed(seed)
    with progress_bar(total=blocks * size * size, enabled=progress, desc="variogram pairs",
                      unit="pair", unit_scale=True) as bar:
        for start in range(0, blocks, per_batch):
            batch = min(per_batch, blocks - start)
            rows_a = torch.randint(n, (batch, size), generator=generator).to(units.device)
            rows_b = torch.randint(n, (batch, size), generator=generator).to(units.device)
            chord = pair_ops.chords(units[rows_a], units[rows_b])
            d, root = _pair_terms(feats[rows_a], feats[rows_b], dissimilarity, robust)
            acc.add(chord, d, root, keep=rows_a[:, :, None] != rows_b[:, None, :])
            bar.update(batch * size * size)
