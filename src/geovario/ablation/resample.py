"""Cluster bootstrap replicates of the distance metrics, paired across models and seeds.

A resample draws G of the G test units (clusters of images, or single images) with
replacement; an image then counts as many times as its unit was drawn. Every metric is
computed on that multiset exactly as on an explicit copy of the drawn images (the weighted
median is the median of the repeated values, averaging the two middle ones when the count
is even), without building the copy: means from per-unit sums, the median from cumulative
weights over the images sorted once. One draw serves both models and every seed, so the
replicates of all of them are paired.
"""

import numpy as np

from geovario.metrics.distance import GEOSCORE_MAX, GEOSCORE_SCALE_KM, THRESHOLDS_KM

_CELLS_PER_BLOCK = 4_000_000  # resamples × images handled at once (~32 MB of int64)


def _per_image(errors: np.ndarray) -> dict[str, np.ndarray]:
    """The per-image quantity each mean-type metric averages."""
    values = {"mean_km": errors,
              "geoscore": GEOSCORE_MAX * np.exp(-errors / GEOSCORE_SCALE_KM)}
    for radius in THRESHOLDS_KM:
        values[f"acc_{radius}km"] = (errors < radius).astype(np.float64)
    return values


def weighted_median(sorted_errors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Median of each row's multiset: ``sorted_errors`` (N,) ascending, ``weights`` (B, N) counts.

    Equal to ``np.median(np.repeat(sorted_errors, weights[b]))`` for every row b.
    """
    cumulative = np.cumsum(weights, axis=1)
    total = cumulative[:, -1]
    low = np.argmax(cumulative > ((total - 1) // 2)[:, None], axis=1)
    high = np.argmax(cumulative > (total // 2)[:, None], axis=1)
    return (sorted_errors[low] + sorted_errors[high]) / 2


class PairedResampler:
    """Bootstrap replicates of every metric's difference (variant − baseline), per seed.

    Args:
        baseline, variant: (S, N) per-image errors in km; row s of one pairs with row s of
            the other (same seed), column i is the same test image on both sides.
        codes: (N,) the unit (cluster) index of each image, 0..G-1, every index used.
    """

    def __init__(self, baseline: np.ndarray, variant: np.ndarray, codes: np.ndarray) -> None:
        self.codes = codes
        self.units = int(codes.max()) + 1
        self.sizes = np.bincount(codes, minlength=self.units).astype(np.float64)
        self.models = []
        for errors in (baseline, variant):
            per_seed = []
            for row in errors:
                order = np.argsort(row, kind="stable")
                sums = {key: np.bincount(codes, weights=value, minlength=self.units)
                        for key, value in _per_image(row).items()}
                per_seed.append((row[order], codes[order], sums))
            self.models.append(per_seed)

    def replicates(self, resamples: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``{metric: (resamples, S) array}`` of variant − baseline, one draw shared by all."""
        n_seeds = len(self.models[0])
        out: dict[str, np.ndarray] = {}
        block = max(1, _CELLS_PER_BLOCK // max(len(self.codes), self.units))
        uniform = np.full(self.units, 1.0 / self.units)
        for first in range(0, resamples, block):
            counts = rng.multinomial(self.units, uniform, size=min(block, resamples - first))
            total = counts @ self.sizes
            for s in range(n_seeds):
                (base_sorted, base_codes, base_sums), (var_sorted, var_codes, var_sums) = \
                    self.models[0][s], self.models[1][s]
                values = {key: (counts @ var_sums[key] - counts @ base_sums[key]) / total
                          for key in base_sums}
                values["median_km"] = (weighted_median(var_sorted, counts[:, var_codes])
                                       - weighted_median(base_sorted, counts[:, base_codes]))
                for key, value in values.items():
                    out.setdefault(key, np.empty((resamples, n_seeds)))[
                        first:first + len(counts), s] = value
        return out
