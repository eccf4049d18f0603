"""The demo report's figures: error CDF, a world map of errors, examples, negatives."""

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from PIL import Image

COLORS = {"infonce": "tab:blue", "semivariogram": "tab:red"}
MARKERS = {"infonce": "s", "semivariogram": "o"}


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path)
    return path


def error_cdf(predictions: dict[str, Path], path: Path) -> Path:
    """Share of test images located within d km, for every model (log distance axis)."""
    fig = Figure(figsize=(6.5, 4), dpi=120)
    ax = fig.subplots()
    for name, csv in predictions.items():
        errors = np.sort(pd.read_csv(csv)["error_km"].to_numpy())
        share = np.arange(1, len(errors) + 1) / len(errors)
        ax.step(np.maximum(errors, 0.1), 100 * share, where="post", label=name,
                color=COLORS.get(name))
    for threshold in (1, 25, 200, 750, 2500):
        ax.axvline(threshold, color="gray", lw=0.6, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("error (km)")
    ax.set_ylabel("test images within the error (%)")
    ax.set_title("Cumulative distribution of the error")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _world(ax, background: np.ndarray) -> None:
    ax.imshow(background, extent=(-180, 180, -90, 90), origin="upper")
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_xticks([])
    ax.set_yticks([])


def error_map(predictions: dict[str, Path], background: np.ndarray, path: Path) -> Path:
    """Test places on the Blue Marble, coloured by each model's error."""
    fig = Figure(figsize=(9, 4.6 * len(predictions)), dpi=110)
    axes = fig.subplots(len(predictions), 1)
    axes = np.atleast_1d(axes)
    norm = LogNorm(vmin=10, vmax=10000)
    for ax, (name, csv) in zip(axes, predictions.items(), strict=True):
        table = pd.read_csv(csv)
        _world(ax, background)
        points = ax.scatter(table.true_longitude, table.true_latitude,
                            c=np.clip(table.error_km, 10, 10000), cmap="plasma_r", norm=norm,
                            s=9, edgecolors="none")
        ax.set_title(f"{name}: test places coloured by error")
        fig.colorbar(points, ax=ax, shrink=0.7, label="error (km)")
    return _save(fig, path)


def examples(patches: list[bytes], truths: np.ndarray, top5: dict[str, tuple], background,
             path: Path) -> Path:
    """A few test patches beside a map of each model's top-5 guesses and the truth."""
    rows = len(patches)
    fig = Figure(figsize=(10, 2.8 * rows), dpi=110)
    axes = fig.subplots(rows, 2, gridspec_kw={"width_ratios": [1, 3]})
    axes = np.atleast_2d(axes)
    for i, (patch, truth) in enumerate(zip(patches, truths, strict=True)):
        axes[i, 0].imshow(Image.open(io.BytesIO(patch)).convert("RGB"))
        axes[i, 0].set_axis_off()
        axes[i, 0].set_title(f"truth {truth[0]:.1f}, {truth[1]:.1f}", fontsize=8)
        _world(axes[i, 1], background)
        for name, (coords, probs) in top5.items():
            # Hollow squares and filled circles stay visible where both models agree.
            hollow = MARKERS.get(name) == "s"
            axes[i, 1].scatter(coords[i][:, 1], coords[i][:, 0], s=20 + 400 * probs[i],
                               marker=MARKERS.get(name, "o"), alpha=0.9,
                               facecolors="none" if hollow else COLORS.get(name),
                               edgecolors=COLORS.get(name) if hollow else "white",
                               linewidths=1.5 if hollow else 0.5, label=f"{name} top-5")
        axes[i, 1].scatter([truth[1]], [truth[0]], marker="*", s=160, color="yellow",
                           edgecolors="black", label="truth")
        if i == 0:
            axes[i, 1].legend(fontsize=7, loc="lower left")
    return _save(fig, path)


def negatives_over_training(log: Path, path: Path) -> Path:
    """Share of negatives the semivariogram loss called hard or false, step by step."""
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    steps = [r for r in records if "hard_share" in r and "kind" not in r]
    fig = Figure(figsize=(6.5, 3.6), dpi=120)
    ax = fig.subplots()
    if steps:
        x = [r["step"] for r in steps]
        ax.plot(x, [100 * r["hard_share"] for r in steps], label="hard negatives",
                color="tab:red")
        ax.plot(x, [100 * r["false_share"] for r in steps], label="false negatives",
                color="tab:green")
    ax.set_xlabel("training step")
    ax.set_ylabel("share of negatives (%)")
    ax.set_title("What the semivariogram loss finds (0 during the queue warm-up)")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)
