import importlib
import sys
from unittest.mock import patch

import matplotlib
import numpy as np

from geovario.variogram import EmpiricalVariogram, FittedVariogram, Structure, make_bin_edges


def fitted_with_bins(edges):
    lag = np.where(edges[:-1] > 0, np.sqrt(np.maximum(edges[:-1], 1e-9) * edges[1:]),
                   edges[1] / 2)
    gamma = 0.1 + 0.3 * (1 - np.exp(-3 * lag / 20)) + 0.6 * (1 - np.exp(-3 * lag / 1500))
    pairs = np.r_[np.full(2, 5), np.full(len(lag) - 2, 3000)]
    emp = EmpiricalVariogram(edges, lag, gamma, pairs, np.full(len(lag), 0.1), "cosine",
                             "matheron", 500)
    return FittedVariogram(nugget=0.1, structures=(Structure("exponential", 0.3, 20.0),
                                                   Structure("exponential", 0.6, 1500.0)),
                           empirical=emp)


def test_plot_writes_a_png_with_a_log_axis_for_log_bins(tmp_path):
    from geovario.variogram.plot import plot_variogram, variogram_figure

    fitted = fitted_with_bins(np.concatenate([[0.0], np.geomspace(1, 20000, 22)]))
    figure = variogram_figure(fitted)
    axis = figure.axes[0]
    assert axis.get_xscale() == "log"
    # Both structures' ranges and the effective range are marked.
    marked = {round(line.get_xdata()[0], 6) for line in axis.get_lines()
              if len(set(line.get_xdata())) == 1}
    assert {20.0, 1500.0, round(fitted.range_km, 6)} <= marked
    path = plot_variogram(fitted, tmp_path / "sub" / "v.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_linear_bins_keep_a_linear_axis_unless_asked():
    from geovario.variogram.plot import variogram_figure

    fitted = fitted_with_bins(make_bin_edges(10000, 20))
    assert variogram_figure(fitted).axes[0].get_xscale() == "linear"
    assert variogram_figure(fitted, log_x=True).axes[0].get_xscale() == "log"


def test_importing_the_plot_module_leaves_the_backend_and_pyplot_alone():
    import geovario.variogram.plot as plot_module

    backend = matplotlib.get_backend()
    with patch("matplotlib.use") as use, patch.dict(sys.modules):
        sys.modules.pop("matplotlib.pyplot", None)
        importlib.reload(plot_module)
        assert "matplotlib.pyplot" not in sys.modules
    use.assert_not_called()
    assert matplotlib.get_backend() == backend
