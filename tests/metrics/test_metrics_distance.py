import math

import numpy as np
import pytest
import torch
from geopy.distance import great_circle

from geovario.errors import GeovarioError
from geovario.metrics import (
    DISTANCE_KEYS,
    THRESHOLDS_KM,
    distance_metrics,
    errors_km,
    summarize_errors_km,
)

KM_PER_DEGREE = 6371 * math.pi / 180  # 111.19492664455873 km of arc per degree


def equator_pairs(distances_km):
    """Predictions at (0, 0), truths on the equator at the given arc lengths east."""
    d = np.asarray(distances_km, dtype=np.float64)
    pred = np.zeros((len(d), 2))
    true = np.stack([np.zeros(len(d)), d / KM_PER_DEGREE], axis=1)
    return pred, true


def test_one_degree_of_arc_on_equator_and_meridian():
    assert errors_km([[0, 0]], [[0, 1]])[0] == pytest.approx(111.19492664455873, rel=1e-12)
    assert errors_km([[10, 20]], [[11, 20]])[0] == pytest.approx(111.19492664455873, rel=1e-12)
    assert errors_km([[0, 0]], [[0, 180]])[0] == pytest.approx(6371 * math.pi, rel=1e-12)


def test_hand_worked_metrics_even_n():
    # d = 0.5, 10, 100, 500, 1000, 3000 km
    pred, true = equator_pairs([0.5, 10, 100, 500, 1000, 3000])
    m = distance_metrics(pred, true)
    assert list(m) == list(DISTANCE_KEYS)
    assert m["n"] == 6
    assert m["mean_km"] == pytest.approx(4610.5 / 6, rel=1e-9)
    assert m["median_km"] == pytest.approx(300.0, rel=1e-9)  # (100 + 500) / 2
    assert m["acc_1km"] == pytest.approx(1 / 6)
    assert m["acc_25km"] == pytest.approx(2 / 6)
    assert m["acc_200km"] == pytest.approx(3 / 6)
    assert m["acc_750km"] == pytest.approx(4 / 6)
    assert m["acc_2500km"] == pytest.approx(5 / 6)


def test_geoscore_formula_hand_values():
    # d = 0 scores 5000, d = 1492.7 km scores 5000 / e = 1839.3972...
    m = summarize_errors_km([0.0, 1492.7])
    assert m["geoscore"] == pytest.approx((5000 + 1839.3972058572117) / 2, rel=1e-12)
    pred, true = equator_pairs([1492.7])
    assert distance_metrics(pred, true)["geoscore"] == pytest.approx(1839.3972058572117,
                                                                     rel=1e-9)


@pytest.mark.parametrize("radius", THRESHOLDS_KM)
def test_accuracy_is_strict_at_exact_threshold(radius):
    below = np.nextafter(float(radius), 0.0)
    assert summarize_errors_km([float(radius)])[f"acc_{radius}km"] == 0.0
    assert summarize_errors_km([below])[f"acc_{radius}km"] == 1.0
    assert summarize_errors_km([np.nextafter(float(radius), np.inf)])[f"acc_{radius}km"] == 0.0


def test_accuracy_strict_from_coordinates_around_25km():
    pred, true = equator_pairs([25 * (1 - 1e-9), 25 * (1 + 1e-9)])
    m = distance_metrics(pred, true)
    assert m["acc_25km"] == 0.5


def test_haversine_matches_geopy_great_circle():
    rng = np.random.default_rng(7)
    pred = np.stack([rng.uniform(-90, 90, 500), rng.uniform(-180, 180, 500)], axis=1)
    true = np.stack([rng.uniform(-90, 90, 500), rng.uniform(-180, 180, 500)], axis=1)
    ours = errors_km(pred, true)
    theirs = [great_circle(tuple(p), tuple(t), radius=6371).km
              for p, t in zip(pred, true, strict=True)]
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)


def test_torch_input_with_grad_equals_numpy():
    pred, true = equator_pairs([3.0, 30.0, 300.0])
    tensor = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    assert distance_metrics(tensor, torch.tensor(true)) == distance_metrics(pred, true)


def test_raises_on_unpaired_rows():
    with pytest.raises(GeovarioError, match=r"errors_km: pred_coords has 2 rows but "
                                            r"true_coords has 1"):
        errors_km([[0, 0], [1, 1]], [[0, 0]])


def test_raises_on_invalid_coordinates():
    with pytest.raises(GeovarioError, match=r"errors_km: true_coords: 1 invalid coordinates"):
        errors_km([[0, 0]], [[91, 0]])
    with pytest.raises(GeovarioError, match=r"errors_km: pred_coords: expected \(N, 2\)"):
        errors_km([[0, 0, 0]], [[0, 0]])


def test_raises_on_no_rows():
    with pytest.raises(GeovarioError, match="summarize_errors_km: no errors given"):
        distance_metrics(np.empty((0, 2)), np.empty((0, 2)))


def test_raises_on_bad_errors():
    with pytest.raises(GeovarioError, match=r"summarize_errors_km: 2 errors are NaN, "
                                            r"negative or infinite \(first at index 1\)"):
        summarize_errors_km([1.0, np.nan, -1.0])
