"""Weighted least-squares fits of single and nested models, by variable projection.

For fixed ranges (and shape), γ(h) = n + Σ_i s_i g_i(h), g_i = 1 − ρ_i(h / r_i), is
linear in the nugget and partial sills, all ≥ 0, so the best of them is a tiny
non-negative least squares solved exactly (:mod:`~geovario.variogram.nnls`). The fit
therefore scans a log grid of ranges (single: r and shape; nested: every r₁ < r₂),
solves the NNLS for each, vectorised, and refines the best (log ranges, shape) with
bounded Nelder–Mead on that projected loss. It needs no initial guess and cannot
diverge. For one structure this is the closed-form 2 × 2 fit the engine always had.

Objective: Σ_k w_k (γ̂_k − γ(h_k))² at the bins' mean pair distances h_k.
(GSTools' ``fit_variogram(weights=v)`` minimises Σ v_k² (…)², so v = √w there.)
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from geovario.errors import GeovarioError
from geovario.variogram.models import NestedModel, VariogramModel, get_model
from geovario.variogram.nnls import nnls_batch
from geovario.variogram.structures import Structure, effective_range_km

RANGE_GRID = 192
SHAPE_GRID = 40
#: Ranges per axis of the nested grid (all pairs r₁ < r₂: 2,016 candidates).
NESTED_GRID = 64


@dataclass(frozen=True)
class ModelFit:
    """The best parameters of one model and its weighted residual sum of squares."""

    model: str
    nugget: float
    structures: tuple[Structure, ...]
    rss: float
    range_at_bound: bool

    @property
    def partial_sill(self) -> float:
        """Total partial sill Σ s_i."""
        return sum(s.partial_sill for s in self.structures)

    @property
    def range_km(self) -> float:
        """Practical range: the structure's own, or the nested curve's effective one."""
        return effective_range_km(self.nugget, self.structures)

    @property
    def shape(self) -> float | None:
        """Shape of a single structure (None for shape-free and nested models)."""
        return self.structures[0].shape if len(self.structures) == 1 else None

    def parameter_count(self, fit_nugget: bool) -> int:
        """Free parameters: nugget (if fitted), sill and range per structure, shape."""
        return int(fit_nugget) + sum(2 + int(s.shape is not None) for s in self.structures)


def _check(lag_km, gamma, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    return h, y, w


def _project(columns: list[np.ndarray], y, w, fit_nugget: bool) -> tuple[np.ndarray, ...]:
    """Best coefficients ≥ 0 and loss per row of the (R, K) basis ``columns``.

    Returns (sills (R, S), nugget (R,), loss (R,)); the nugget is the last column.
    """
    if fit_nugget:
        columns = [*columns, np.ones_like(columns[0])]
    x, loss = nnls_batch(np.stack(columns, axis=1), y, w)
    nugget = x[:, -1] if fit_nugget else np.zeros(len(x))
    return (x[:, :-1] if fit_nugget else x), nugget, loss


def fit_model(lag_km, gamma, weights=None, *, model: str = "stable", fit_nugget: bool = True,
              range_bounds_km: tuple[float, float] | None = None) -> ModelFit:
    """Fit one model, single ("exponential") or nested ("exponential+gaussian"), by WLS.

    Args:
        lag_km: lags of the points (the bins' mean pair distances), km.
        gamma: empirical semivariances at those lags.
        weights: per-point weights w_k (default 1).
        model: a registered model name.
        fit_nugget: fit a nugget; otherwise it is fixed at 0.
        range_bounds_km: search interval for every practical range; default
            [shortest positive lag, 3 × longest lag]. No structure is shorter than the
            first lag: one that rose within it would be a nugget under another name.

    Raises:
        GeovarioError: "fit: ..." for fewer than 3 points, NaN values, mismatched lengths or
            non-positive weights; "variogram: unknown model ..." for an unknown model.
    """
    h, y, w = _check(lag_km, gamma, weights)
    spec = get_model(model)
    positive = h[h > 0]
    low, high = range_bounds_km or (positive.min() if len(positive) else h.max(), 3 * h.max())
    if isinstance(spec, NestedModel):
        return _fit_nested(spec, h, y, w, fit_nugget, low, high)
    return _fit_single(spec, h, y, w, fit_nugget, low, high)


def _nelder_mead(objective, start, bounds, loss):
    return minimize(objective, start, method="Nelder-Mead", bounds=bounds,
                    options={"xatol": 1e-7, "fatol": 1e-14 * max(loss, 1e-300),
                             "maxiter": 2000})


def _fit_single(spec: VariogramModel, h, y, w, fit_nugget, low, high) -> ModelFit:
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
        s, n, loss = _project([basis(ranges, shape)], y, w, fit_nugget)
        i = int(np.argmin(loss))
        if best is None or loss[i] < best[4]:
            best = (n[i], s[i, 0], ranges[i], shape, loss[i])
    n, s, r, shape, loss = best

    log_bounds = [(math.log(low), math.log(high))]
    start = [math.log(r)]
    if spec.shape_bounds is not None:
        log_bounds.append(spec.shape_bounds)
        start.append(shape)

    def projected(params):
        shape_ = params[1] if spec.shape_bounds is not None else shape
        return _project([basis(math.exp(params[0]), shape_)], y, w, fit_nugget)[2][0]

    refined = _nelder_mead(projected, start, log_bounds, loss)
    if refined.fun <= loss:
        r = math.exp(refined.x[0])
        shape = float(refined.x[1]) if spec.shape_bounds is not None else shape
        s_, n_, loss_ = _project([basis(r, shape)], y, w, fit_nugget)
        n, s, loss = n_[0], s_[0, 0], loss_[0]
    at_bound = bool(r < low * 1.01 or r > high / 1.01)
    structure = Structure(spec.name, float(s), float(r), None if shape is None else float(shape))
    return ModelFit(spec.name, float(n), (structure,), float(loss), at_bound)


def _fit_nested(spec: NestedModel, h, y, w, fit_nugget, low, high) -> ModelFit:
    short, long = spec.components
    ranges = np.geomspace(low, high, NESTED_GRID)
    i, j = np.triu_indices(NESTED_GRID, k=1)

    def bases(r1, r2):
        return [short.gamma(h[None, :], 0.0, 1.0, np.atleast_1d(r1)[:, None]),
                long.gamma(h[None, :], 0.0, 1.0, np.atleast_1d(r2)[:, None])]

    g_short, g_long = bases(ranges, ranges)
    s, n, loss = _project([g_short[i], g_long[j]], y, w, fit_nugget)
    best = int(np.argmin(loss))
    r1, r2, best_loss = ranges[i[best]], ranges[j[best]], loss[best]
    sills, nugget = s[best], n[best]

    def projected(params):
        if params[0] >= params[1]:
            return math.inf
        return _project(bases(*np.exp(params)), y, w, fit_nugget)[2][0]

    bounds = [(math.log(low), math.log(high))] * 2
    refined = _nelder_mead(projected, [math.log(r1), math.log(r2)], bounds, best_loss)
    if refined.fun <= best_loss:
        r1, r2 = np.exp(refined.x)
        s_, n_, loss_ = _project(bases(r1, r2), y, w, fit_nugget)
        sills, nugget, best_loss = s_[0], n_[0], loss_[0]
    structures = (Structure(short.name, float(sills[0]), float(r1)),
                  Structure(long.name, float(sills[1]), float(r2)))
    at_bound = any(st.partial_sill > 0 and (st.range_km < low * 1.01 or st.range_km > high / 1.01)
                   for st in structures)
    return ModelFit(spec.name, float(nugget), structures, float(best_loss), at_bound)
