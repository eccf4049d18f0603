"""A picture of a region-wise variogram: every region's curve beside the global one, and a map.

Left, the curves: the global fit (black) and each region's curve in its colour, with
the shrunk bins it was fitted to (dots) and its practical range marked on the curve.
Right, the regions: every point of a lat/lon grid coloured by its nearest centroid (the
partition the loss uses), the centroids numbered. A bare
:class:`~matplotlib.figure.Figure`, as in :mod:`~geovario.variogram.plot`.
"""

from pathlib import Path

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from geovario.variogram.bins import is_log_layout
from geovario.variogram.plot import format_km, variogram_figure
from geovario.variogram.regional import RegionalVariogram
from geovario.variogram.regions import nearest_region

_MAP_STEP_DEG = 1.0


def regional_figure(variogram: RegionalVariogram, *, title: str | None = None) -> Figure:
    """The figure: curves (left) and the regions on a map (right)."""
    fig = Figure(figsize=(13, 5.5), dpi=110, layout="constrained")
    curves, world = fig.subplots(1, 2, width_ratios=(1.1, 1))
    colours = [f"C{i % 10}" for i in range(len(variogram.regions))]
    global_fit = variogram.global_fit
    emp = global_fit.empirical
    log_x = emp is not None and is_log_layout(emp.bin_edges_km)
    top = float(emp.bin_edges_km[-1]) if emp is not None else 3 * global_fit.range_km
    h = np.geomspace(max(top * 1e-4, 0.1), top, 400) if log_x else np.linspace(0, top, 400)
    for i, (region, colour) in enumerate(zip(variogram.regions, colours, strict=True)):
        fit = region.fitted
        label = (f"{i}: {region.lat:.0f}°, {region.lon:.0f}° · {region.points:,} places · "
                 f"range {format_km(fit.range_km)}" + (" (global)" if fit is global_fit else ""))
        curves.plot(h, fit.gamma(h), color=colour, lw=1.6, label=label)
        curves.plot([fit.range_km], [fit.gamma(np.array([fit.range_km]))[0]], "o",
                    color=colour, ms=5)
        bins = fit.empirical
        if fit is not global_fit and bins is not None:
            used = np.isfinite(bins.gamma) & (bins.pairs >= global_fit.min_pairs)
            curves.scatter(bins.lag_km[used], bins.gamma[used], s=10, color=colour, alpha=0.5)
    curves.plot(h, global_fit.gamma(h), color="black", lw=2.4,
                label=f"global: range {format_km(global_fit.range_km)}")
    if log_x:
        curves.set_xscale("log")
    curves.set_xlabel("great-circle distance (km)" + (", log scale" if log_x else ""))
    curves.set_ylabel(f"semivariance ({global_fit.dissimilarity} dissimilarity)")
    curves.set_ylim(bottom=0)
    curves.set_title("Each region's curve (shrunk toward the global one)")
    curves.legend(loc="lower right", fontsize=7, frameon=False)
    _draw_regions(world, variogram, colours)
    fig.suptitle(title or "Region-wise semivariogram of feature dissimilarity")
    return fig


def _draw_regions(ax, variogram: RegionalVariogram, colours: list[str]) -> None:
    """Every grid point coloured by its region; centroids numbered."""
    lat = np.arange(-90 + _MAP_STEP_DEG / 2, 90, _MAP_STEP_DEG)
    lon = np.arange(-180 + _MAP_STEP_DEG / 2, 180, _MAP_STEP_DEG)
    grid = np.stack(np.meshgrid(lat, lon, indexing="ij"), axis=-1).reshape(-1, 2)
    if variogram.regions:
        labels = nearest_region(grid, variogram.centroids_deg).reshape(len(lat), len(lon))
        ax.imshow(labels, origin="lower", extent=(-180, 180, -90, 90), alpha=0.45,
                  cmap=ListedColormap(colours), vmin=-0.5, vmax=len(colours) - 0.5,
                  interpolation="nearest")
        for i, region in enumerate(variogram.regions):
            ax.annotate(str(i), (region.lon, region.lat), ha="center", va="center",
                        fontsize=9, weight="bold",
                        bbox={"boxstyle": "circle", "fc": "white", "ec": colours[i]})
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_aspect("equal")
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    ax.set_title("Regions (nearest centroid)")


def figure_of(variogram) -> Figure:
    """The plot of any variogram: regional with regions, else the global fit's."""
    if isinstance(variogram, RegionalVariogram):
        if variogram.regions:
            return regional_figure(variogram)
        variogram = variogram.global_fit
    return variogram_figure(variogram)


def plot_any_variogram(variogram, path: str | Path) -> Path:
    """Save :func:`figure_of` as a PNG at ``path`` (folders are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure_of(variogram).savefig(path)
    return path
