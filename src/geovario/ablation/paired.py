"""Paired comparison of variants trained with the same seeds, with bootstrap intervals.

Runs of two variants with the same seed share their initial weights and batch order and
are evaluated on the same test images, so most of the seed-to-seed spread is common to
both and cancels in their difference. For each metric m and seed s the difference is
Δ_s = m(variant_s) − m(baseline_s); the reported estimate is the mean of Δ_s over seeds.
Its 95 % interval comes from a paired bootstrap over test images: draw the images with
replacement (one draw shared by both models and by every seed), recompute the mean over
seeds of Δ_s on the drawn images, and take the 2.5 and 97.5 percentiles of that statistic
over the resamples. It measures how much the difference depends on which test images
were drawn; seeds enter through their average.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from geovario.errors import GeovarioError
from geovario.metrics.distance import metrics_along_last_axis

RESAMPLES = 2000
CONFIDENCE = 0.95
_CELLS_PER_BLOCK = 4_000_000  # resamples × images evaluated at once (~32 MB of float64)


def paired_differences(baseline: list[np.ndarray], variant: list[np.ndarray], *,
                       resamples: int = RESAMPLES, seed: int = 0) -> dict[str, dict]:
    """Mean over seeds of each distance metric's difference (variant − baseline), with its CI.

    Args:
        baseline, variant: per seed, the per-image errors in km on the same test images in
            the same order (seed s of one pairs with seed s of the other).
        resamples: bootstrap resamples of the test images.
        seed: the bootstrap's random seed.

    Returns:
        ``{metric: {"mean", "ci_low", "ci_high", "per_seed"}}`` for every distance metric.

    Raises:
        GeovarioError: "paired: ..." for no seeds, unequal seed counts or image counts.
    """
    if not baseline or len(baseline) != len(variant):
        raise GeovarioError(f"paired: need the same positive number of seeds on both sides, "
                            f"got {len(baseline)} and {len(variant)}")
    base = np.stack([np.asarray(e, dtype=np.float64) for e in baseline])
    other = np.stack([np.asarray(e, dtype=np.float64) for e in variant])
    if base.shape != other.shape:
        raise GeovarioError(f"paired: the runs were evaluated on different image counts "
                            f"({base.shape[1]} and {other.shape[1]})")
    per_seed = {key: value - metrics_along_last_axis(base)[key]
                for key, value in metrics_along_last_axis(other).items()}
    n_seeds, n_images = base.shape
    rng = np.random.default_rng(seed)
    draws = {key: [] for key in per_seed}
    block = max(1, _CELLS_PER_BLOCK // (n_images * n_seeds))
    for first in range(0, resamples, block):
        rows = rng.integers(n_images, size=(min(block, resamples - first), n_images))
        totals = dict.fromkeys(per_seed, 0.0)
        for s in range(n_seeds):
            ours, theirs = metrics_along_last_axis(other[s][rows]), \
                metrics_along_last_axis(base[s][rows])
            for key in totals:
                totals[key] = totals[key] + ours[key] - theirs[key]
        for key in draws:
            draws[key].append(totals[key] / n_seeds)
    tail = 100 * (1 - CONFIDENCE) / 2
    out = {}
    for key, differences in per_seed.items():
        low, high = np.percentile(np.concatenate(draws[key]), [tail, 100 - tail])
        out[key] = {"mean": float(differences.mean()), "ci_low": float(low),
                    "ci_high": float(high), "per_seed": [float(v) for v in differences]}
    return out


def read_errors(run_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Image ids and per-image errors (km) from a run's ``predictions.csv``.

    Raises:
        GeovarioError: "<file>: ..." when the file or its columns are missing.
    """
    path = Path(run_dir) / "predictions.csv"
    try:
        table = pd.read_csv(path, usecols=["id", "error_km"], dtype={"id": str})
    except FileNotFoundError:
        raise GeovarioError(f"{path}: no per-image predictions; evaluate the run again") from None
    except ValueError as error:
        raise GeovarioError(f"{path}: {error}") from None
    return table["id"].to_numpy(), table["error_km"].to_numpy(np.float64)


def compare_runs(baseline_runs: list[Path], variant_runs: list[Path], **options) -> dict:
    """:func:`paired_differences` of runs read from their ``predictions.csv`` files.

    Raises:
        GeovarioError: "paired: <run> was evaluated on other images than <run>" when the ids
            differ (the comparison needs the same test images in the same order).
    """
    errors = {}
    reference = None
    for run in [*baseline_runs, *variant_runs]:
        ids, errors[run] = read_errors(run)
        if reference is None:
            reference = (run, ids)
        elif not np.array_equal(ids, reference[1]):
            raise GeovarioError(f"paired: {run} was evaluated on other images than "
                                f"{reference[0]}")
    return paired_differences([errors[r] for r in baseline_runs],
                              [errors[r] for r in variant_runs], **options)
