"""Exact non-negative weighted least squares for many small problems at once.

For fixed ranges (and shapes) a variogram is linear in its M ≤ 3 non-negative
coefficients (partial sills and nugget). The fit solves, for each of P designs A_p
(M × K basis values at K lags),

    min_x Σ_k w_k (y_k − Σ_j x_j A_p[j, k])²   subject to x ≥ 0.

The optimum is the unconstrained least-squares solution on its own support (KKT), so
enumerating every support S ⊆ {0..M−1} (2^M subsets, the empty one included), solving
the |S| × |S| normal equations in closed form (Cramer's rule), keeping the feasible
solutions (all x_S ≥ 0) and taking the smallest loss gives the exact optimum, vectorised
over all P problems. Losses are computed from the residuals, not the normal equations,
so they stay accurate near a perfect fit. Ties go to the support met first: subsets in
increasing bit order, column 0 first (the fit puts the nugget in the last column).
"""

import numpy as np

from geovario.errors import GeovarioError

MAX_COLUMNS = 3


def _det(g: np.ndarray) -> np.ndarray:
    """Determinants of a stack of 1×1, 2×2 or 3×3 matrices, written out."""
    m = g.shape[-1]
    if m == 1:
        return g[..., 0, 0]
    if m == 2:
        return g[..., 0, 0] * g[..., 1, 1] - g[..., 0, 1] * g[..., 1, 0]
    return (g[..., 0, 0] * (g[..., 1, 1] * g[..., 2, 2] - g[..., 1, 2] * g[..., 2, 1])
            - g[..., 0, 1] * (g[..., 1, 0] * g[..., 2, 2] - g[..., 1, 2] * g[..., 2, 0])
            + g[..., 0, 2] * (g[..., 1, 0] * g[..., 2, 1] - g[..., 1, 1] * g[..., 2, 0]))


def _solve(gram: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cramer's rule for a stack of small systems; (solutions, which were solvable)."""
    det = _det(gram)
    solvable = det > 1e-300
    x = np.empty_like(rhs)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for j in range(gram.shape[-1]):
            replaced = gram.copy()
            replaced[..., :, j] = rhs
            x[..., j] = _det(replaced) / det
    return x, solvable & np.isfinite(x).all(-1)


def nnls_batch(design: np.ndarray, target: np.ndarray,
               weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact weighted NNLS for each of P small designs.

    Args:
        design: (P, M, K) basis values, M ≤ 3 columns at K points.
        target: (K,) values to fit.
        weights: (K,) positive weights.

    Returns:
        (x, loss): (P, M) non-negative coefficients and (P,) weighted residual sums of
        squares Σ_k w_k (y_k − x·A[:, k])².

    Raises:
        GeovarioError: "fit: ..." for more than 3 columns or mismatched shapes.
    """
    design = np.asarray(design, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if design.ndim != 3 or design.shape[1] > MAX_COLUMNS or design.shape[2] != len(y) \
            or len(w) != len(y):
        raise GeovarioError(f"fit: NNLS needs a (P, M <= {MAX_COLUMNS}, K) design and K targets "
                            f"and weights, got {design.shape}, {y.shape}, {w.shape}")
    p, m, _ = design.shape
    # Sums written as Σ w·(a_i·a_j) and Σ (w·a_i)·y: for one structure and a nugget these
    # are, operation for operation, the closed-form 2 × 2 fit's sums.
    gram = np.empty((p, m, m))
    for i in range(m):
        for j in range(i, m):
            gram[:, i, j] = gram[:, j, i] = (w * (design[:, i] * design[:, j])).sum(-1)
    rhs = np.stack([((w * design[:, i]) * y).sum(-1) for i in range(m)], axis=1)
    best_x = np.zeros((p, m))
    best_loss = np.full(p, float((w * (y - 0.0) ** 2).sum()))  # the empty support, x = 0
    for mask in range(1, 2**m):
        support = [j for j in range(m) if mask >> j & 1]
        x, ok = _solve(gram[:, support][:, :, support], rhs[:, support])
        ok &= (x >= 0).all(-1)
        x = np.where(ok[:, None], x, 0.0)
        residual = y[None, :]
        for position in reversed(range(len(support))):  # the nugget (last column) first
            residual = residual - x[:, position, None] * design[:, support[position]]
        loss = np.where(ok, (w * residual**2).sum(-1), np.inf)
        better = loss < best_loss
        best_loss = np.where(better, loss, best_loss)
        full = np.zeros((p, m))
        full[:, support] = x
        best_x = np.where(better[:, None], full, best_x)
    return best_x, best_loss
