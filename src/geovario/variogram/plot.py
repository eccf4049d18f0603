"""A picture of a fitted semivariogram: what a person looks at to trust the fit."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from geovario.variogram.fitted import FittedVariogram  # noqa: E402


def plot_variogram(fitted: FittedVariogram, path: str | Path, *, title: str | None = None,
                   log_x: bool = False) -> Path:
    """Save a PNG: empirical bins (area ∝ pair count), the fitted curve, nugget, sill, range.

    Bins below the fit's ``min_pairs`` are drawn hollow: they were left out of the fit.
    """
    path = Path(path)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    emp = fitted.empirical
    h_max = fitted.range_km * 1.5
    if emp is not None:
        ok = np.isfinite(emp.gamma)
        used = ok & (emp.pairs >= fitted.min_pairs)
        sizes = 12 + 180 * np.sqrt(emp.pairs / max(emp.pairs.max(), 1))
        ax.scatter(emp.lag_km[used], emp.gamma[used], s=sizes[used], color="tab:blue",
                   alpha=0.7, label="empirical (area ∝ pairs)")
        ax.scatter(emp.lag_km[ok & ~used], emp.gamma[ok & ~used], s=sizes[ok & ~used],
                   facecolors="none", edgecolors="tab:blue", label="too few pairs (not fitted)")
        h_max = max(h_max, float(emp.bin_edges_km[-1]))
    h = np.geomspace(max(h_max, 1e-9) * 1e-4, h_max, 400) if log_x else np.linspace(0, h_max, 400)
    ax.plot(h, fitted.gamma(h), color="tab:red", lw=2, label=_describe(fitted))
    ax.axhline(fitted.sill, color="gray", ls="--", lw=1)
    ax.axhline(fitted.nugget, color="gray", ls=":", lw=1)
    ax.axvline(fitted.range_km, color="tab:green", ls="--", lw=1)
    ax.annotate(f"sill {fitted.sill:.4g}", (0.99, fitted.sill), xycoords=("axes fraction", "data"),
                ha="right", va="bottom", fontsize=8, color="gray")
    ax.annotate(f"nugget {fitted.nugget:.4g}", (0.99, fitted.nugget),
                xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=8,
                color="gray")
    ax.annotate(f"range {fitted.range_km:,.0f} km", (fitted.range_km, 0.02),
                xycoords=("data", "axes fraction"), ha="left", fontsize=8, color="tab:green")
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel("great-circle distance (km)")
    ax.set_ylabel(f"semivariance ({fitted.dissimilarity} dissimilarity)")
    ax.set_ylim(bottom=0)
    ax.set_title(title or "Semivariogram of feature dissimilarity")
    ax.legend(fontsize=8, loc="lower right", bbox_to_anchor=(1.0, 0.08))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _describe(fitted: FittedVariogram) -> str:
    shape = "" if fitted.shape is None else f", shape {fitted.shape:.3g}"
    return f"{fitted.model} fit{shape}"
