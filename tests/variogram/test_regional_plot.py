"""The region-wise variogram's figure: every region's curve beside the global one, and a map."""

import numpy as np
import pytest

from geovario.variogram import EmpiricalVariogram, FittedVariogram
from geovario.variogram.regional import Region, RegionalVariogram
from geovario.variogram.regional_plot import figure_of, plot_any_variogram, regional_figure

EDGES = np.concatenate([[0.0], np.geomspace(1, 20000, 22)])


def fit(nugget, sill, range_km):
    lag = np.sqrt(np.maximum(EDGES[:-1], 0.5) * EDGES[1:])
    gamma = nugget + sill * (1 - np.exp(-3 * lag / range_km))
    emp = EmpiricalVariogram(EDGES, lag, gamma, np.full(len(lag), 500), np.full(len(lag), 0.1),
                             "cosine", "matheron", 100)
    return FittedVariogram.single("exponential", nugget, sill, range_km, empirical=emp)


@pytest.fixture
def regional():
    glob = fit(0.1, 0.5, 1000.0)
    regions = (Region(40.0, -100.0, 300, np.full(22, 500), fit(0.1, 0.5, 200.0)),
               Region(0.0, 20.0, 200, np.full(22, 500), fit(0.05, 0.6, 3000.0)),
               Region(-30.0, 140.0, 40, np.zeros(22, dtype=np.int64), glob))
    return RegionalVariogram(glob, regions, shrinkage_pairs=100)


def test_every_region_and_the_global_curve_are_drawn_with_a_map(regional, tmp_path):
    figure = regional_figure(regional)
    curves, world = figure.axes[:2]
    labels = [line.get_label() for line in curves.get_lines() if not line.get_label()
              .startswith("_")]
    assert len(labels) == 4 and labels[-1] == "global: range 1,000 km"
    assert labels[0].startswith("0: 40°, -100°") and "range 200 km" in labels[0]
    assert labels[2].endswith("(global)")  # the region without pairs uses the global curve
    assert curves.get_xscale() == "log"
    # The map: each region's number at its centroid, and the partition as an image.
    assert [t.get_text() for t in world.texts] == ["0", "1", "2"]
    partition = world.get_images()[0].get_array()
    assert partition.shape == (180, 360) and set(np.unique(partition)) == {0, 1, 2}
    assert plot_any_variogram(regional, tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"


def test_a_global_variogram_draws_as_before(regional):
    assert len(figure_of(regional.global_fit).axes) == 1
    assert len(figure_of(RegionalVariogram(regional.global_fit)).axes) == 1
