import math

import numpy as np
import pytest
import torch
from geopy.distance import great_circle

from geovario.geo import (
    EARTH_RADIUS_KM,
    haversine_km,
    iter_pairwise_km,
    pairwise_km,
)

HALF_CIRCUMFERENCE = math.pi * EARTH_RADIUS_KM
ONE_DEGREE = HALF_CIRCUMFERENCE / 180


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0, 0), (0, 0), 0.0),
        ((0, 0), (0, 180), HALF_CIRCUMFERENCE),  # antipodes on the equator
        ((35, 20), (-35, -160), HALF_CIRCUMFERENCE),  # antipodes elsewhere
        ((90, 0), (-90, 0), HALF_CIRCUMFERENCE),  # pole to pole
        ((90, 0), (90, 123), 0.0),  # the pole has every longitude
        ((0, 179.5), (0, -179.5), ONE_DEGREE),  # across the date line
        ((0, 0), (0, 90), HALF_CIRCUMFERENCE / 2),
        ((0, 0), (1, 0), ONE_DEGREE),  # along a meridian
    ],
)
def test_hand_worked_cases(a, b, expected):
    # Haversine is ill-conditioned at antipodes (asin near 1): allow 1 m there, 1 mm elsewhere.
    tolerance = 1e-3 if expected == HALF_CIRCUMFERENCE else 1e-6
    assert haversine_km(*a, *b) == pytest.approx(expected, abs=tolerance)
    got = haversine_km(*(torch.tensor(float(x), dtype=torch.float64) for x in (*a, *b)))
    assert got.item() == pytest.approx(expected, abs=tolerance)


def test_matches_geopy_great_circle(sphere_points):
    a, b = sphere_points(300, 1), sphere_points(300, 2)
    ours = haversine_km(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    theirs = [great_circle(p, q, radius=EARTH_RADIUS_KM).km for p, q in zip(a, b, strict=True)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-6)
    torch_ours = haversine_km(*(torch.from_numpy(x) for x in (a[:, 0], a[:, 1], b[:, 0],
                                                              b[:, 1])))
    np.testing.assert_allclose(torch_ours.numpy(), theirs, rtol=1e-9, atol=1e-6)


def test_pairwise_equals_elementwise_and_chunks_agree(sphere_points):
    a, b = sphere_points(37, 3), sphere_points(23, 4)
    expected = haversine_km(a[:, None, 0], a[:, None, 1], b[None, :, 0], b[None, :, 1])
    np.testing.assert_allclose(pairwise_km(a, b), expected, rtol=1e-10, atol=1e-7)
    blocks = list(iter_pairwise_km(a, b, chunk_rows=10))
    assert [start for start, _ in blocks] == [0, 10, 20, 30]
    # equal to the last bit but one: vectorised atan2 rounds a block's tail its own way
    np.testing.assert_allclose(np.concatenate([blk for _, blk in blocks]), pairwise_km(a, b),
                               rtol=1e-15)


def test_pairwise_is_exact_at_a_metre():
    # 1 m north of a point: the chord formulation must not lose it to cancellation.
    metre_in_degrees = 0.001 / ONE_DEGREE
    d = pairwise_km(np.array([[48.0, 2.0]]), np.array([[48.0 + metre_in_degrees, 2.0]]))
    assert d[0, 0] == pytest.approx(0.001, rel=1e-6)


def test_chord_and_km_invert_each_other_and_match_geopy(sphere_points):
    from geovario.geo.distance import chord_to_km, km_to_chord, unit_vectors

    coords = sphere_points(200, seed=3)
    u = unit_vectors(coords)
    chords = np.linalg.norm(u[:100] - u[100:], axis=1)
    km = chord_to_km(torch.from_numpy(chords)).numpy()
    expected = [great_circle(a, b, radius=6371.0).km
                for a, b in zip(coords[:100], coords[100:], strict=True)]
    np.testing.assert_allclose(km, expected, rtol=1e-9)
    np.testing.assert_allclose(km_to_chord(km), chords, rtol=1e-12)
    # float64 chords → float32 km keep float32's relative precision up to the antipode
    far = torch.tensor([2.0 - 1e-12, 1e-6], dtype=torch.float64)
    km32 = chord_to_km(far, torch.float32)
    assert km32.dtype == torch.float32
    np.testing.assert_allclose(km32.numpy(), chord_to_km(far).numpy(), rtol=1e-6)
    assert km_to_chord(1e9) == pytest.approx(2.0)  # capped at the antipode
