"""The ablation's outputs a person reads: a Markdown table, JSON and an accuracy plot."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from geovario.ablation.variants import VARIANTS  # noqa: E402
from geovario.fileio import write_bytes_atomic, write_json_atomic  # noqa: E402
from geovario.metrics.distance import THRESHOLDS_KM  # noqa: E402

PERCENT = ("acc_",)


def _cell(key: str, mean: float, std: float) -> str:
    if key.startswith(PERCENT):
        return f"{100 * mean:.2f} ± {100 * std:.2f}"
    return f"{mean:.1f} ± {std:.1f}"


def markdown_table(summary: dict, seeds: int) -> str:
    """Variants as rows, metrics as columns, mean ± std over seeds (accuracies in %)."""
    keys = list(next(iter(summary.values())))
    lines = [f"Mean ± standard deviation over {seeds} seed(s); accuracies in %.", "",
             "| variant | " + " | ".join(keys) + " |",
             "|---|" + "---:|" * len(keys)]
    for name, values in summary.items():
        cells = [_cell(k, *values[k]) for k in keys]
        lines.append(f"| {name} ({VARIANTS[name].description}) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def accuracy_plot(summary: dict, path: Path) -> Path:
    """Accuracy against the distance threshold (log scale), one line per variant."""
    fig, ax = plt.subplots(figsize=(6.5, 4), dpi=120)
    for name, values in summary.items():
        means = [100 * values[f"acc_{t}km"][0] for t in THRESHOLDS_KM]
        stds = [100 * values[f"acc_{t}km"][1] for t in THRESHOLDS_KM]
        ax.errorbar(THRESHOLDS_KM, means, yerr=stds, marker="o", capsize=3, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("distance threshold (km)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("Accuracy within a distance, by loss variant")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def write_report(out: Path, summary: dict, seeds: int) -> dict[str, Path]:
    """ablation.md, ablation.json and accuracy.png in ``out``."""
    table = markdown_table(summary, seeds)
    write_bytes_atomic(out / "ablation.md", ("# Ablation\n\n" + table).encode())
    write_json_atomic(out / "ablation.json", {
        "seeds": seeds,
        "variants": {name: {k: {"mean": m, "std": s} for k, (m, s) in values.items()}
                     for name, values in summary.items()}})
    return {"markdown": out / "ablation.md", "json": out / "ablation.json",
            "plot": accuracy_plot(summary, out / "accuracy.png")}
