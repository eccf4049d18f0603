"""Weighted least-squares fits of the theoretical models, by variable projection.

For a fixed practical range r (and shape), γ(h) = n + s·g(h), g = 1 − ρ(h/r), is linear
in nugget n and partial sill s, so the best (n, s) ≥ 0 has a closed form. The fit
therefore scans a log grid of ranges (and shapes), solves the 2×2 weighted least
squares for each, and refines the best (r, shape) with bounded Nelder–Mead on that
projected loss. It needs no initial guess and cannot diverge.

Objective: Σ_k w_k (γ̂_k − γ(h_k))² at the bins' mean pair distances h_k.
(GSTools' ``fit_variogram(weights=v)`` minimises Σ v_k² (…)², so v = √w there.)
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from geovario.errors import GeovarioError
from geovario.variogram.empirical import EmpiricalVariogram
from geovario.variogram.fitted import FittedVariogram
from geovario.variogram.models import get_model

RANGE_GRID = 192
SHAPE_GRID = 40


@dataclass(frozen=True)
class ModelFit:
    """The best parameters of one model and its weighted residual sum of squares."""

    model: str
    nugget: float
    partial_sill: float
    range_km: float
    shape: float | None
    rss: float
    range_at_bound: bool


def _project(basis: np.ndarray, gamma: np.ndarray, weights: np.ndarray,
             fit_nugget: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best (nugget, sill, loss) ≥ 0 for each row of ``basis`` (R, K) g(h_k), vectorised.

    Tries the unconstrained solution, then the boundaries n = 0 and s = 0, and keeps the
    feasible one with the lowest loss.
    """
    w = weights[None, :]
    sw, sy = w.sum(), (w * gamma).sum()
    sg, sgg, sgy = (w * basis).sum(1), (w * basis**2).sum(1), (w * basis * gamma).sum(1)
    candidates = []
    # Boundary n = 0: s = Σwgy / Σwgg, clipped at 0.
    with np.errstate(invalid="ignore", divide="ignore"):
        s0 = np.where(sgg > 0, np.maximum(sgy / sgg, 0.0), 0.0)
    candidates.append((np.zeros_like(s0), s0))
    if fit_nugget:
        candidates.append((np.full_like(s0, max(sy / sw, 0.0)), np.zeros_like(s0)))
        det = sw * sgg - sg**2
        with np.errstate(invalid="ignore", divide="ignore"):
            n_free = (sgg * sy - sg * sgy) / det
            s_free = (sw * sgy - sg * sy) / det
        ok = (det > 1e-300) & (n_free >= 0) & (s_free >= 0)
        candidates.append((np.where(ok, n_free, np.nan), np.where(ok, s_free, np.nan)))
    best_loss = np.full(len(basis), np.inf)
    best_n, best_s = np.zeros(len(basis)), np.zeros(len(basis))
    for n, s in candidates:
        loss = (w * (gamma[None, :] - n[:, None] - s[:, None] * basis) ** 2).sum(1)
        loss = np.where(np.isnan(loss), np.inf, loss)
        better = loss < best_loss
        best_loss = np.where(better, loss, best_loss)
        best_n, best_s = np.where(better, n, best_n), np.where(better, s, best_s)
    return best_n, best_s, best_loss


def fit_model(lag_km, gamma, weights=None, *, model: str = "stable", fit_nugget: bool = True,
              range_bounds_km: tuple[float, float] | None = None) -> ModelFit:
    """Fit one model to (lag, γ) points by weighted least squares.

    Args:
        lag_km: lags of the points (the bins' mean pair distances), km.
        gamma: empirical semivariances at those lags.
        weights: per-point weights w_k (default 1).
        model: a registered model name.
        fit_nugget: fit a nugget; otherwise it is fixed at 0.
        range_bounds_km: search interval for the practical range; default
            [min positive lag / 10, 3 × max lag].

    Raises:
        GeovarioError: "fit: ..." for fewer than 3 points, NaN values, mismatched lengths or
            non-positive weights.
    """
    h = np.asarray(lag_km, dtype=np.float64)
    y = np.asarray(gamma, dtype=np.float64)
    w = np.ones_like(h) if weights is None else np.asarray(weights, dtype=np.float64)
    if not len(h) == len(y) == len(w):
        raise GeovarioError(f"fit: lags, gamma and weights differ in length "
                            f"({len(h)}, {len(y)}, {len(w)})")
    if len(h) < 3:
        raise GeovarioError(f"fit: need at least 3 bins to fit a model, got {len(h)}")
    if not (np.isfinite(h).all() and np.isfinite(y).all() and np.isfinite(w).all()):
        raise GeovarioError("fit: lags, gamma and weights must be finite (drop empty bins)")
    if (w <= 0).any() or (h < 0).any():
        raise GeovarioError("fit: weights must be positive and lags non-negative")
    spec = get_model(model)
    positive = h[h > 0]
    low, high = range_bounds_km or ((positive.min() if len(positive) else h.max()) / 10,
                                    3 * h.max())
    ranges = np.geomspace(low, high, RANGE_GRID)
    if spec.shape_choices is not None:
        shapes = list(spec.shape_choices)
    elif spec.shape_bounds is not None:
        shapes = list(np.linspace(*spec.shape_bounds, SHAPE_GRID))
    else:
        shapes = [None]

    def basis(r, shape):
        return spec.gamma(h[None, :], 0.0, 1.0, np.atleast_1d(r)[:, None], shape)

    best = None
    for shape in shapes:
        n, s, loss = _project(basis(ranges, shape), y, w, fit_nugget)
        i = int(np.argmin(loss))
        if best is None or loss[i] < best[4]:
            best = (n[i], s[i], ranges[i], shape, loss[i])
    n, s, r, shape, loss = best

    log_bounds = [(math.log(low), math.log(high))]
    start = [math.log(r)]
    if spec.shape_bounds is not None:
        log_bounds.append(spec.shape_bounds)
        start.append(shape)

    def projected(params):
        shape_ = params[1] if spec.shape_bounds is not None else shape
        return _project(basis(math.exp(params[0]), shape_), y, w, fit_nugget)[2][0]

    refined = minimize(projected, start, method="Nelder-Mead", bounds=log_bounds,
                       options={"xatol": 1e-7, "fatol": 1e-14 * max(loss, 1e-300),
                                "maxiter": 2000})
    if refined.fun <= loss:
        r = math.exp(refined.x[0])
        shape = float(refined.x[1]) if spec.shape_bounds is not None else shape
        n_, s_, loss_ = _project(basis(r, shape), y, w, fit_nugget)
        n, s, loss = n_[0], s_[0], loss_[0]
    at_bound = bool(r < low * 1.01 or r > high / 1.01)
    return ModelFit(model, float(n), float(s), float(r),
                    None if shape is None else float(shape), float(loss), at_bound)


AUTO_MODELS = ("spherical", "exponential", "gaussian", "stable", "matern")
WEIGHTINGS = ("pairs", "cressie", "equal")


def _parameter_count(fit: ModelFit, fit_nugget: bool) -> int:
    return 2 + int(fit_nugget) + int(fit.shape is not None)


def _aic(fit: ModelFit, weights: np.ndarray, fit_nugget: bool) -> float:
    """Akaike's criterion of a weighted least-squares fit (weights normalised to mean 1)."""
    k = len(weights)
    rss = fit.rss / weights.mean()
    return k * math.log(max(rss, 1e-300) / k) + 2 * _parameter_count(fit, fit_nugget)


def fit_variogram(empirical: EmpiricalVariogram, *, model: str = "stable",
                  weighting: str = "pairs", min_pairs: int = 30, fit_nugget: bool = True,
                  range_bounds_km: tuple[float, float] | None = None) -> FittedVariogram:
    """Fit a model (or, with ``model="auto"``, the best of all by Akaike's criterion).

    Bins with fewer than ``min_pairs`` pairs are dropped. Weights: ``pairs`` (w_k = N_k,
    the default), ``cressie`` (N_k / γ(h_k)², Cressie 1985, two reweighting passes) or
    ``equal``.

    Raises:
        GeovarioError: "fit: ..." for an unknown weighting, or fewer than 3 bins with at
            least ``min_pairs`` pairs.
    """
    if weighting not in WEIGHTINGS:
        raise GeovarioError(f"fit: unknown weighting {weighting!r} "
                            f"(choose from {', '.join(WEIGHTINGS)})")
    keep = (empirical.pairs >= max(min_pairs, 1)) & np.isfinite(empirical.gamma)
    if keep.sum() < 3:
        raise GeovarioError(f"fit: only {int(keep.sum())} bins hold at least {min_pairs} pairs; "
                            "need 3 (more points, wider bins or a lower --min-pairs)")
    h, y = empirical.lag_km[keep], empirical.gamma[keep]
    counts = empirical.pairs[keep].astype(np.float64)
    weights = np.ones_like(h) if weighting == "equal" else counts
    names = AUTO_MODELS if model == "auto" else (model,)
    fits = []
    for name in names:
        fit = fit_model(h, y, weights, model=name, fit_nugget=fit_nugget,
                        range_bounds_km=range_bounds_km)
        w = weights
        for _ in range(2 if weighting == "cressie" else 0):
            expected = get_model(name).gamma(h, fit.nugget, fit.partial_sill, fit.range_km,
                                             fit.shape)
            floor = 1e-3 * max(fit.nugget + fit.partial_sill, 1e-12)
            w = counts / np.maximum(expected, floor) ** 2
            fit = fit_model(h, y, w, model=name, fit_nugget=fit_nugget,
                            range_bounds_km=range_bounds_km)
        fits.append((_aic(fit, w, fit_nugget), fit))
    aic, best = min(fits, key=lambda pair: pair[0])
    return FittedVariogram(
        model=best.model, nugget=best.nugget, partial_sill=best.partial_sill,
        range_km=best.range_km, shape=best.shape, dissimilarity=empirical.dissimilarity,
        estimator=empirical.estimator, weighting=weighting, min_pairs=min_pairs,
        rss=best.rss, aic=aic, range_at_bound=best.range_at_bound, empirical=empirical,
        candidates={fit.model: score for score, fit in fits},
    )
