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


def test_labels_read_as_people_write_distances_and_stay_off_the_data():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from geovario.variogram.plot import format_km, variogram_figure

    assert [format_km(x) for x in (1580.4, 20.0, 12345.6, 0.35, 2.5)] == [
        "1,580 km", "20 km", "12,346 km", "0.35 km", "2.5 km"]
    fitted = fitted_with_bins(np.concatenate([[0.0], np.geomspace(1, 20000, 22)]))
    figure = variogram_figure(fitted)
    FigureCanvasAgg(figure).draw()
    axis, legend = figure.axes[0], figure.legends[0]
    labels = [text.get_text() for text in legend.get_texts()]
    assert {"exponential range 20 km", "exponential range 1,500 km", "sill 1", "nugget 0.1",
            f"effective range {fitted.range_km:,.0f} km"} <= set(labels)
    assert not any("e+" in label for label in labels)
    assert len(axis.texts) == 0  # nothing written inside the plot
    renderer = figure.canvas.get_renderer()
    assert not legend.get_window_extent(renderer).overlaps(axis.get_window_extent(renderer))


def test_a_linear_axis_writes_thousands_with_commas():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from geovario.variogram.plot import variogram_figure

    figure = variogram_figure(fitted_with_bins(make_bin_edges(10000, 20)))
    FigureCanvasAgg(figure).draw()
    ticks = [t.get_text() for t in figure.axes[0].get_xticklabels() if t.get_text()]
    assert "2,000" in ticks and "10,000" in ticks
