"""Read the evidence study's ablation.json files and print its tables for RESULTS.md.

Each cell is the mean over seeds of variant − InfoNCE (accuracies in percentage points,
errors in km, GeoScore in points) with the paired bootstrap's 95 % interval, and a verdict:
"helps" or "hurts" when the interval excludes zero, "cannot tell" when it does not.

Usage: python benchmarks/study_table.py OUT   (the study_method.sh output folder)
"""

import json
import sys
from pathlib import Path

METRICS = [("acc_1km", "acc 1 km", 100.0, +1), ("acc_25km", "acc 25 km", 100.0, +1),
           ("acc_200km", "acc 200 km", 100.0, +1), ("acc_750km", "acc 750 km", 100.0, +1),
           ("acc_2500km", "acc 2500 km", 100.0, +1), ("median_km", "median km", 1.0, -1),
           ("geoscore", "GeoScore", 1.0, +1)]


def verdict(cell: dict, better: int) -> str:
    """helps / hurts / cannot tell, from the interval's side of zero."""
    if cell["ci_low"] > 0 or cell["ci_high"] < 0:
        return "helps" if (cell["mean"] > 0) == (better > 0) else "hurts"
    return "cannot tell"


def table(path: Path) -> str:
    """The Markdown table of one ablation.json: baseline level, then each variant's diffs."""
    data = json.loads(path.read_text())
    paired = data["paired"]
    lines = ["| variant | " + " | ".join(label for _, label, _, _ in METRICS) + " |",
             "|---" * (len(METRICS) + 1) + "|"]
    base = data["per_seed"]["infonce"] if "per_seed" in data else None
    if base:
        cells = []
        for key, _, scale, _ in METRICS:
            values = [run[key] * scale for run in base]
            cells.append(f"{sum(values) / len(values):.2f}")
        lines.append("| InfoNCE (level) | " + " | ".join(cells) + " |")
    for variant, metrics in paired.items():
        cells = []
        for key, _, scale, better in METRICS:
            cell = metrics[key]
            cells.append(f"{cell['mean'] * scale:+.2f} [{cell['ci_low'] * scale:+.2f}, "
                         f"{cell['ci_high'] * scale:+.2f}] {verdict(cell, better)}")
        lines.append(f"| {variant} − InfoNCE | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(out: Path) -> None:
    for path in sorted(out.glob("*/*/ablation.json")):
        print(f"### {path.parent.relative_to(out)}\n\n{table(path)}\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
