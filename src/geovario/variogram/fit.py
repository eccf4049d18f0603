"""Fitting a semivariogram to empirical bins: weights, model choice, the fitted result.

The least squares themselves live in :mod:`~geovario.variogram.least_squares`
(variable projection, exact NNLS, single and nested models); this module decides which
bins count and how much, fits the requested model or, with ``model="auto"``, every
registered model, and chooses one by the small-sample Akaike criterion with a preference
for fewer parameters (``SELECTION``).

Weights (per bin k with N_k pairs):

- ``balanced`` (default): w_k = N_k / (1 + N_k / N_sat), N_sat = ``SATURATION_PAIRS``.
  The error of a bin's mean is not σ²/N_k for ever larger N_k: pairs share points and
  the field is one realisation, so it has a floor (the spatial sampling error and the
  model's own misfit). Modelling var(γ̂_k) ∝ 1/N_k + 1/N_sat gives these inverse-variance
  weights: proportional to N_k for sparse bins, levelling off at N_sat for full ones. On
  a worldwide sample the long lags hold 10⁵–10⁷ pairs against 10²–10⁴ for the first
  kilometres; pair-count weights make the short bins count for nothing, equal weights
  let a 30-pair bin count as much as a 10⁶-pair one. With N_sat = 2,000 a bin of 2,000
  pairs gets half the cap, and no bin, however full, counts more than N_sat.
- ``pairs``: w_k = N_k (classical; Cressie 1985 without the γ term).
- ``cressie``: w_k = N_k / γ(h_k)² (Cressie 1985), two reweighting passes.
- ``equal``: w_k = 1.
"""


import numpy as np

from geovario.errors import GeovarioError
from geovario.variogram.criterion import CRITERION, PARSIMONY_DELTA, SELECTION, aicc, select
from geovario.variogram.empirical import EmpiricalVariogram
from geovario.variogram.fitted import FitRecord, FittedVariogram
from geovario.variogram.least_squares import RANGE_GRID, SHAPE_GRID, ModelFit, fit_model
from geovario.variogram.models import FAMILIES, get_model
from geovario.variogram.structures import nested_gamma

__all__ = ["CRITERION", "PARSIMONY_DELTA", "RANGE_GRID", "SATURATION_PAIRS", "SELECTION",
           "SHAPE_GRID", "WEIGHTINGS", "ModelFit", "aicc", "auto_families", "bin_weights",
           "fit_model", "fit_variogram", "select"]

WEIGHTINGS = ("balanced", "pairs", "cressie", "equal")
#: N_sat of the ``balanced`` weighting: pairs at which a bin's weight is half its cap.
SATURATION_PAIRS = 2000.0
def auto_families() -> tuple[str, ...]:
    """The candidates of ``model="auto"``: every registered family, single and nested."""
    return tuple(FAMILIES)


def bin_weights(pairs, weighting: str) -> np.ndarray:
    """Weights of bins holding ``pairs`` pairs (``cressie`` starts from pair counts).

    Raises:
        GeovarioError: "fit: unknown weighting ...".
    """
    counts = np.asarray(pairs, dtype=np.float64)
    if weighting == "balanced":
        return counts / (1.0 + counts / SATURATION_PAIRS)
    if weighting in ("pairs", "cressie"):
        return counts
    if weighting == "equal":
        return np.ones_like(counts)
    raise GeovarioError(f"fit: unknown weighting {weighting!r} "
                        f"(choose from {', '.join(WEIGHTINGS)})")


def fit_variogram(empirical: EmpiricalVariogram, *, model: str = "auto",
                  weighting: str = "balanced", min_pairs: int = 30, fit_nugget: bool = True,
                  range_bounds_km: tuple[float, float] | None = None,
                  warn: bool = True) -> FittedVariogram:
    """Fit a model to the bins; with ``model="auto"`` the one ``SELECTION`` chooses.

    Args:
        empirical: the empirical bins.
        model: a single model ("exponential"), a nested one ("exponential+exponential":
            short-range structure first) or "auto" (every registered model).
        weighting: ``balanced`` (default), ``pairs``, ``cressie`` or ``equal`` (see the
            module docstring).
        min_pairs: bins with fewer pairs (or no value) are left out of the fit.
        fit_nugget: fit a nugget; otherwise it is fixed at 0.
        range_bounds_km: search interval for the ranges (see ``fit_model``).
        warn: print the fit's warnings (a range or sill at a bound, see
            :attr:`FittedVariogram.warnings`) to stderr in one line.

    Raises:
        GeovarioError: "fit: ..." for an unknown weighting, or fewer than 3 bins with at
            least ``min_pairs`` pairs; "variogram: unknown model ..." for an unknown model.
    """
    if weighting not in WEIGHTINGS:
        raise GeovarioError(f"fit: unknown weighting {weighting!r} "
                            f"(choose from {', '.join(WEIGHTINGS)})")
    names = auto_families() if model == "auto" else (get_model(model).name,)
    keep = (empirical.pairs >= max(min_pairs, 1)) & np.isfinite(empirical.gamma)
    if keep.sum() < 3:
        raise GeovarioError(f"fit: only {int(keep.sum())} bins hold at least {min_pairs} pairs; "
                            "need 3 (more points, wider bins or a lower --min-pairs)")
    h, y = empirical.lag_km[keep], empirical.gamma[keep]
    counts = empirical.pairs[keep].astype(np.float64)
    weights = bin_weights(counts, weighting)
    fits = []
    for name in names:
        fit = fit_model(h, y, weights, model=name, fit_nugget=fit_nugget,
                        range_bounds_km=range_bounds_km)
        w = weights
        for _ in range(2 if weighting == "cressie" else 0):
            expected = nested_gamma(h, fit.nugget, fit.structures)
            floor = 1e-3 * max(fit.nugget + fit.partial_sill, 1e-12)
            w = counts / np.maximum(expected, floor) ** 2
            fit = fit_model(h, y, w, model=name, fit_nugget=fit_nugget,
                            range_bounds_km=range_bounds_km)
        p = fit.parameter_count(fit_nugget)
        fits.append((aicc(fit.rss, w, p), p, fit))
    score, _, best = select(fits)
    fitted = FittedVariogram(
        best.nugget, best.structures, empirical.dissimilarity, empirical.estimator, min_pairs,
        empirical, FitRecord(weighting, best.rss, score, best.range_at_bound,
                             candidates={fit.model: value for value, _, fit in fits},
                             parameters={fit.model: p for _, p, fit in fits}))
    if warn:
        fitted.warn()
    return fitted
