import numpy as np
import pytest
from scipy.optimize import nnls

from geovario.errors import GeovarioError
from geovario.variogram.nnls import nnls_batch


def scipy_weighted_nnls(design, y, w):
    """Σ w (y − xA)² = ‖√w·y − (√w·A)ᵀx‖²: scipy's NNLS on the scaled system."""
    root = np.sqrt(w)
    x, norm = nnls((design * root).T, y * root)
    return x, norm**2


@pytest.mark.parametrize("columns", [1, 2, 3])
def test_random_problems_match_scipy_nnls(columns):
    rng = np.random.default_rng(columns)
    problems, k = 200, 12
    design = rng.normal(size=(problems, columns, k))
    design[: problems // 4] = np.abs(design[: problems // 4])  # variogram-like: all positive
    y = rng.normal(size=k)
    w = rng.uniform(0.1, 5.0, k)
    x, loss = nnls_batch(design, y, w)
    for p in range(problems):
        expected_x, expected_loss = scipy_weighted_nnls(design[p], y, w)
        assert loss[p] == pytest.approx(expected_loss, rel=1e-9, abs=1e-12)
        np.testing.assert_allclose(x[p], expected_x, rtol=1e-6, atol=1e-9)
    assert (x >= 0).all()


def test_variogram_shaped_problems_match_scipy_nnls():
    """Columns g₁, g₂ (exponential structures) and a constant, as the nested fit builds them."""
    rng = np.random.default_rng(7)
    h = np.geomspace(0.5, 15000, 20)
    y = 0.1 + 0.3 * (1 - np.exp(-3 * h / 20)) + 0.6 * (1 - np.exp(-3 * h / 1500))
    y = y + rng.normal(0, 0.02, len(h))
    w = rng.uniform(100, 2000, len(h))
    r1, r2 = np.geomspace(1, 100, 15), np.geomspace(200, 20000, 15)
    design = np.stack([1 - np.exp(-3 * h[None] / r1[:, None]),
                       1 - np.exp(-3 * h[None] / r2[:, None]), np.ones((15, len(h)))], axis=1)
    x, loss = nnls_batch(design, y, w)
    for p in range(15):
        expected_x, expected_loss = scipy_weighted_nnls(design[p], y, w)
        assert loss[p] == pytest.approx(expected_loss, rel=1e-9)
        np.testing.assert_allclose(x[p], expected_x, rtol=1e-6, atol=1e-9)


def test_collinear_and_zero_columns_still_give_the_optimum():
    h = np.linspace(1, 10, 8)
    y = 2.0 + 0.0 * h
    ones = np.ones_like(h)
    design = np.stack([np.stack([ones, ones, ones]), np.stack([np.zeros_like(h), h, ones])])
    w = np.ones_like(h)
    x, loss = nnls_batch(design, y, w)
    np.testing.assert_allclose(loss, 0.0, atol=1e-20)
    assert x[0].sum() == pytest.approx(2.0) and x[1][1] == pytest.approx(0.0, abs=1e-12)


def test_all_negative_target_gives_zero():
    design = np.abs(np.random.default_rng(1).normal(size=(3, 2, 6)))
    y, w = -np.ones(6), np.ones(6)
    x, loss = nnls_batch(design, y, w)
    assert (x == 0).all()
    np.testing.assert_allclose(loss, 6.0)


def test_bad_shapes():
    with pytest.raises(GeovarioError, match="fit: NNLS needs a"):
        nnls_batch(np.ones((2, 4, 5)), np.ones(5), np.ones(5))
    with pytest.raises(GeovarioError, match="fit: NNLS needs a"):
        nnls_batch(np.ones((2, 2, 5)), np.ones(4), np.ones(4))
