"""A picture of a fitted semivariogram: what a person looks at to trust the fit.

Drawn on a bare :class:`matplotlib.figure.Figure` (no pyplot, no global backend switch),
so importing this module leaves the caller's matplotlib setup alone.
"""

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from geovario.variogram.bins import is_log_layout
from geovario.variogram.fitted import FittedVariogram

_STRUCTURE_COLOURS = ("tab:green", "tab:purple", "tab:brown")


def variogram_figure(fitted: FittedVariogram, *, title: str | None = None,
                     log_x: bool | None = None) -> Figure:
    """The figure: empirical bins (area ∝ pair count), the fitted curve, nugget, sill, ranges.

    Bins below the fit's ``min_pairs`` are drawn hollow: they were left out of the fit.
    Every structure's practical range is marked, and for a nested model the effective
    range too. ``log_x`` (default: when the bins are log-spaced) puts distance on a log
    axis, where the first kilometres can be seen. Every label sits in the legend below
    the axes, never on the data.
    """
    emp = fitted.empirical
    if log_x is None:
        log_x = emp is not None and is_log_layout(emp.bin_edges_km)
    fig = Figure(figsize=(7, 5), dpi=120, layout="constrained")
    ax = fig.add_subplot()
    ranges = [s.range_km for s in fitted.structures]
    h_max, h_min = max(ranges) * 1.5, min(ranges) / 20
    if emp is not None:
        ok = np.isfinite(emp.gamma)
        used = ok & (emp.pairs >= fitted.min_pairs)
        sizes = 12 + 180 * np.sqrt(emp.pairs / max(emp.pairs.max(), 1))
        ax.scatter(emp.lag_km[used], emp.gamma[used], s=sizes[used], color="tab:blue",
                   alpha=0.7, label="empirical (area ∝ pairs)")
        if (ok & ~used).any():
            ax.scatter(emp.lag_km[ok & ~used], emp.gamma[ok & ~used], s=sizes[ok & ~used],
                       facecolors="none", edgecolors="tab:blue",
                       label=f"under {fitted.min_pairs} pairs (not fitted)")
        h_max = max(h_max, float(emp.bin_edges_km[-1]))
        positive = emp.lag_km[ok & (emp.lag_km > 0)]
        if len(positive):
            h_min = min(h_min, float(positive.min()) / 2)
    h = np.geomspace(max(h_min, h_max * 1e-7), h_max, 600) if log_x \
        else np.linspace(0, h_max, 600)
    ax.plot(h, fitted.gamma(h), color="tab:red", lw=2, label=_describe(fitted))
    ax.axhline(fitted.sill, color="gray", ls="--", lw=1, label=f"sill {fitted.sill:.3g}")
    ax.axhline(fitted.nugget, color="gray", ls=":", lw=1, label=f"nugget {fitted.nugget:.3g}")
    marks = [(s.range_km, f"{s.model} range {format_km(s.range_km)}", colour)
             for s, colour in zip(fitted.structures, _STRUCTURE_COLOURS, strict=False)]
    if fitted.nested:
        marks.append((fitted.range_km, f"effective range {format_km(fitted.range_km)}",
                      "black"))
    for x, label, colour in marks:
        ax.axvline(x, color=colour, ls="--", lw=1, label=label)
    if log_x:
        ax.set_xscale("log")
    else:
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_xlabel("great-circle distance (km)" + (", log scale" if log_x else ""))
    ax.set_ylabel(f"semivariance ({fitted.dissimilarity} dissimilarity)")
    ax.set_ylim(bottom=0)
    ax.set_title(title or "Semivariogram of feature dissimilarity")
    fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    return fig


def format_km(km: float) -> str:
    """A distance as people write it: ``1,580 km``, ``20 km``, ``0.35 km``."""
    return f"{km:,.0f} km" if km >= 10 else f"{km:.2g} km"


def plot_variogram(fitted: FittedVariogram, path: str | Path, *, title: str | None = None,
                   log_x: bool | None = None) -> Path:
    """Save :func:`variogram_figure` as a PNG at ``path`` (folders are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    variogram_figure(fitted, title=title, log_x=log_x).savefig(path)
    return path


def _describe(fitted: FittedVariogram) -> str:
    shape = "" if fitted.shape is None else f", shape {fitted.shape:.3g}"
    return f"{fitted.model} fit{shape}"
