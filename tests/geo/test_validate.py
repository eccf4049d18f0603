import numpy as np
import pytest

from geovario.errors import GeovarioError
from geovario.geo import validate_coords


def test_valid_coordinates_pass_through():
    coords = validate_coords([[10, 20], [-90, 180]])
    assert coords.dtype == np.float64 and coords.shape == (2, 2)


@pytest.mark.parametrize(
    ("bad", "row"),
    [((np.nan, 0.0), 1), ((91.0, 0.0), 1), ((0.0, -180.5), 1), ((0.0, np.inf), 1)],
)
def test_invalid_rows_are_named(bad, row):
    with pytest.raises(GeovarioError, match=rf"train.csv: 1 invalid coordinates .* at rows {row}"):
        validate_coords([[0, 0], bad], source="train.csv")


def test_ids_are_named_and_long_lists_cut():
    coords = np.full((8, 2), np.nan)
    with pytest.raises(GeovarioError, match=r"8 invalid coordinates .* at ids a0 \(nan, nan\)"
                       r".*, \.\.\.$"):
        validate_coords(coords, ids=[f"a{i}" for i in range(8)])


def test_wrong_shape():
    with pytest.raises(GeovarioError, match=r"expected \(N, 2\) latitude/longitude"):
        validate_coords(np.zeros((3, 3)))
