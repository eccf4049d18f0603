"""Paired comparison of variants trained with the same seeds, with intervals that hold.

Runs of two variants with the same seed share their initial weights and batch order and
are evaluated on the same test images, so what the seed does to both cancels in their
difference. For a metric m and seed s the difference is Δ_s = m(variant_s) − m(baseline_s);
the estimate is Δ̄, the mean over the S seeds. Its uncertainty has two sources, crossed
(every seed is scored on every test unit):

- **the test set**: the test images are a sample, clustered where the test set is (a
  Blue Marble blocked test set is ~32 regions of ~30 overlapping patches). A bootstrap
  resamples the G independent *units* (clusters, or images where none is known), one draw
  shared by both models and all seeds, and recomputes Δ̄: V_test = its variance over
  the resamples, × G/(G − 1) (the bootstrap variance of a mean of G units is that much
  too small; with 32 clusters it matters);
- **the seeds**: Δ_s varies from seed to seed: V_seed = var_s(Δ_s) / S. It also holds
  the seed × unit interaction that V_test already counts, so the sum errs on the wide side
  (by at most that interaction term; estimating and removing it was measured to exclude
  zero in 7-8 % of simulated nulls, so it is kept).

The interval is Δ̄ ± t(0.975, ν) · √(V_test + V_seed), ν by Welch–Satterthwaite from
S − 1 and G − 1 degrees of freedom (so 5 seeds give t-quantiles near 2.8, not 1.96). With
one seed V_seed cannot be estimated and the interval covers the test set only. Beside it,
``seed_ci`` is the t-interval over the per-seed differences alone (this test set held
fixed). README ("Reproducing the paper's ablation") says why this and not a percentile
bootstrap over seeds.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from geovario.ablation.resample import PairedResampler
from geovario.errors import GeovarioError
from geovario.metrics.distance import metrics_along_last_axis

RESAMPLES = 2000
CONFIDENCE = 0.95


def unit_codes(clusters, n_images: int) -> np.ndarray:
    """Unit index 0..G-1 of each image (clusters numbered as they first appear), or its own.

    Args:
        clusters: (N,) cluster labels (missing: None or NaN), or None for one unit per image.

    Raises:
        GeovarioError: "paired: N cluster labels for M images".
    """
    if clusters is None:
        return np.arange(n_images)
    labels = pd.Series(np.asarray(clusters, dtype=object).reshape(-1), dtype=object)
    if len(labels) != n_images:
        raise GeovarioError(f"paired: {len(labels)} cluster labels for {n_images} images")
    missing = labels.isna().to_numpy()
    codes = np.empty(n_images, dtype=np.int64)
    codes[~missing] = pd.factorize(labels[~missing].astype(str))[0]  # in order of appearance
    first_free = int(codes[~missing].max()) + 1 if (~missing).any() else 0
    codes[missing] = first_free + np.arange(int(missing.sum()))
    return codes


def _interval(per_seed: np.ndarray, replicates: np.ndarray, units: int) -> dict:
    """Combine the test-set and seed parts of the variance (module docstring)."""
    n_seeds = len(per_seed)
    mean = float(per_seed.mean())
    inflate = units / (units - 1)  # a bootstrap variance of a mean is (G - 1)/G too small
    v_test = inflate * float(np.var(replicates.mean(axis=1), ddof=1))
    v_seed = 0.0
    seed_ci = None
    if n_seeds > 1:
        v_seed = float(np.var(per_seed, ddof=1)) / n_seeds
        half = stats.t.ppf((1 + CONFIDENCE) / 2, n_seeds - 1) * np.sqrt(v_seed)
        seed_ci = [mean - float(half), mean + float(half)]
    total = v_test + v_seed
    terms = v_test**2 / (units - 1) + (v_seed**2 / (n_seeds - 1) if n_seeds > 1 else 0.0)
    df = total**2 / terms if terms > 0 else np.inf
    half = float(stats.t.ppf((1 + CONFIDENCE) / 2, df) * np.sqrt(total))
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half,
            "se_test": float(np.sqrt(v_test)), "se_seed": float(np.sqrt(v_seed)),
            "df": float(df) if np.isfinite(df) else None, "seed_ci": seed_ci,
            "per_seed": [float(v) for v in per_seed]}


def paired_differences(baseline: list[np.ndarray], variant: list[np.ndarray], *,
                       clusters=None, resamples: int = RESAMPLES,
                       seed: int = 0) -> dict[str, dict]:
    """Mean over seeds of each distance metric's difference (variant − baseline), with its CI.

    Args:
        baseline, variant: per seed, the per-image errors in km on the same test images in
            the same order (seed s of one pairs with seed s of the other).
        clusters: (N,) cluster label of each test image (the unit a resample draws), or
            None when the images are independent draws (each its own unit).
        resamples: bootstrap resamples of the units.
        seed: the bootstrap's random seed.

    Returns:
        ``{metric: {"mean", "ci_low", "ci_high", "se_test", "se_seed", "df", "seed_ci",
        "per_seed"}}`` for every distance metric (see the module docstring).

    Raises:
        GeovarioError: "paired: ..." for no seeds, unequal seed or image counts, fewer
            than 2 units, or cluster labels that do not match the images.
    """
    if not baseline or len(baseline) != len(variant):
        raise GeovarioError(f"paired: need the same positive number of seeds on both sides, "
                            f"got {len(baseline)} and {len(variant)}")
    base = np.stack([np.asarray(e, dtype=np.float64) for e in baseline])
    other = np.stack([np.asarray(e, dtype=np.float64) for e in variant])
    if base.shape != other.shape:
        raise GeovarioError(f"paired: the runs were evaluated on different image counts "
                            f"({base.shape[1]} and {other.shape[1]})")
    codes = unit_codes(clusters, base.shape[1])
    units = int(codes.max()) + 1
    if units < 2:
        raise GeovarioError(f"paired: the test images form {units} unit; a bootstrap needs "
                            "at least 2")
    per_seed = {key: value - metrics_along_last_axis(base)[key]
                for key, value in metrics_along_last_axis(other).items()}
    replicates = PairedResampler(base, other, codes).replicates(
        resamples, np.random.default_rng(seed))
    return {key: _interval(per_seed[key], replicates[key], units) for key in per_seed}


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


def compare_runs(baseline_runs: list[Path], variant_runs: list[Path], *,
                 clusters: dict | None = None, **options) -> dict:
    """:func:`paired_differences` of runs read from their ``predictions.csv`` files.

    Args:
        clusters: image id → cluster label (ids absent or None: their own unit); None
            when every image is its own unit.

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
    labels = None if clusters is None else [clusters.get(i) for i in reference[1]]
    return paired_differences([errors[r] for r in baseline_runs],
                              [errors[r] for r in variant_runs], clusters=labels, **options)
