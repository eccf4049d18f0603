"""The ablation's outputs a person reads: Markdown tables, JSON and two plots."""

from pathlib import Path

from matplotlib.figure import Figure

from geovario.ablation.variants import VARIANTS
from geovario.fileio import write_bytes_atomic, write_json_atomic
from geovario.metrics.distance import THRESHOLDS_KM

PERCENT = ("acc_",)


def _cell(key: str, mean: float, std: float) -> str:
    if key.startswith(PERCENT):
        return f"{100 * mean:.2f} ± {100 * std:.2f}"
    return f"{mean:.1f} ± {std:.1f}"


def _difference(key: str, value: dict) -> str:
    """Mean difference [95 % CI], in percentage points for accuracies; ``*`` if CI excludes 0."""
    factor, digits = (100, 2) if key.startswith(PERCENT) else (1, 1)
    mark = "*" if value["ci_low"] > 0 or value["ci_high"] < 0 else ""
    return (f"{factor * value['mean']:+.{digits}f} [{factor * value['ci_low']:+.{digits}f}, "
            f"{factor * value['ci_high']:+.{digits}f}]{mark}")


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


def _unit_text(paired: dict) -> str:
    unit = paired["unit"]
    if unit["resampled"] == "image":
        what = f"{unit['units']:,} test images resampled, each its own unit"
    else:
        what = (f"{unit['units']:,} clusters of the {unit['column']!r} column resampled "
                f"({unit['images']:,} images)")
    seeds = ("plus the seed-to-seed variance, t-quantile with Welch–Satterthwaite degrees of "
             "freedom" if paired["seeds"] > 1 else "one seed: seed-to-seed variance not "
             "included")
    return f"95 % interval: {what}, {paired['resamples']:,} resamples, {seeds}"


def paired_table(paired: dict, baseline: str, seeds: int) -> str:
    """Each variant's paired difference to the baseline with its 95 % interval."""
    cells = paired["variants"]
    keys = list(next(iter(cells.values())))
    lines = [f"Paired difference to {baseline} (same seeds, same test images): mean over "
             f"{seeds} seed(s) [{_unit_text(paired)}]. Accuracies in percentage points; "
             "* marks an interval that excludes zero. Lower is better for mean_km and "
             "median_km, higher for the rest.", "",
             "| variant | " + " | ".join(keys) + " |",
             "|---|" + "---:|" * len(keys)]
    for name, values in cells.items():
        lines.append(f"| {name} | " + " | ".join(_difference(k, values[k]) for k in keys) + " |")
    if seeds > 1:
        lines += ["", f"Beside it, the t-interval over the {seeds} per-seed differences alone "
                  "(this test set held fixed; it leaves out which test places were drawn):", "",
                  "| variant | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
        for name, values in cells.items():
            lines.append(f"| {name} | " + " | ".join(
                _difference(k, {**values[k], "ci_low": values[k]["seed_ci"][0],
                                "ci_high": values[k]["seed_ci"][1]}) for k in keys) + " |")
    return "\n".join(lines) + "\n"


def scored_on_text(scored_on: dict) -> str:
    """Which rows the numbers come from: the selection (validation) set or a test set."""
    if scored_on.get("role") == "selection":
        facts = scored_on["selection"]
        return (f"**Scored on the selection set**: {facts['validation_places']:,} places in "
                f"{facts['validation_regions']:,} regions held out of the training store "
                f"{facts['train_store']} (trained on the other {facts['training_places']:,}; "
                f"{facts['dropped_within_buffer']:,} dropped within {facts['buffer_km']:g} km "
                "of them). The test store was not used: choose settings on these rows, then "
                "confirm them on fresh test data.\n")
    return f"**Scored on the test store** {scored_on['store']}.\n"


def accuracy_plot(summary: dict, path: Path) -> Path:
    """Accuracy against the distance threshold (log scale), one line per variant."""
    fig = Figure(figsize=(6.5, 4), dpi=120)
    ax = fig.subplots()
    for name, values in summary.items():
        means = [100 * values[f"acc_{t}km"][0] for t in THRESHOLDS_KM]
        stds = [100 * values[f"acc_{t}km"][1] for t in THRESHOLDS_KM]
        ax.errorbar(THRESHOLDS_KM, means, yerr=stds, marker="o", capsize=3, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("distance threshold (km)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("Accuracy within a distance, by loss variant (mean ± sd over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def paired_plot(paired: dict, baseline: str, path: Path) -> Path:
    """Each variant's accuracy difference to the baseline per threshold, with its interval."""
    fig = Figure(figsize=(6.5, 4), dpi=120)
    ax = fig.subplots()
    offsets = {name: 1.0 + 0.06 * (k - (len(paired) - 1) / 2) for k, name in enumerate(paired)}
    for name, values in paired.items():
        cells = [values[f"acc_{t}km"] for t in THRESHOLDS_KM]
        means = [100 * c["mean"] for c in cells]
        errors = [[100 * (c["mean"] - c["ci_low"]) for c in cells],
                  [100 * (c["ci_high"] - c["mean"]) for c in cells]]
        ax.errorbar([t * offsets[name] for t in THRESHOLDS_KM], means, yerr=errors, marker="o",
                    capsize=3, linestyle="none", label=name)
    ax.axhline(0.0, color="gray", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("distance threshold (km)")
    ax.set_ylabel(f"accuracy − {baseline} (percentage points)")
    ax.set_title(f"Paired difference to {baseline}, 95 % intervals")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def write_report(out: Path, summary: dict, seeds: int, *, results: dict | None = None,
                 paired: dict | None = None, baseline: str = "infonce",
                 scored_on: dict | None = None) -> dict[str, Path]:
    """ablation.md, ablation.json, accuracy.png and (with ``paired``) paired.png in ``out``.

    ``paired`` is :func:`~geovario.ablation.run.compare_to_baseline`'s output; ``scored_on``
    says which rows were scored (``{"role": "selection" | "test", "store", ...}``).
    """
    text = "# Ablation\n\n"
    if scored_on:
        text += scored_on_text(scored_on) + "\n"
    if paired:
        text += paired_table(paired, baseline, seeds) + "\n"
    text += markdown_table(summary, seeds)
    write_bytes_atomic(out / "ablation.md", text.encode())
    write_json_atomic(out / "ablation.json", {
        "seeds": seeds, "baseline": baseline, "scored_on": scored_on or {},
        "variants": {name: {k: {"mean": m, "std": s} for k, (m, s) in values.items()}
                     for name, values in summary.items()},
        "per_seed": results or {}, "paired": paired or {}})
    paths = {"markdown": out / "ablation.md", "json": out / "ablation.json",
             "plot": accuracy_plot(summary, out / "accuracy.png")}
    if paired:
        paths["paired_plot"] = paired_plot(paired["variants"], baseline, out / "paired.png")
    return paths
