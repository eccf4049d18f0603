"""Tables of the evidence study (benchmarks/study_method.sh) for RESULTS.md.

Each cell is the mean over seeds of B − A (accuracies in percentage points, errors in km,
GeoScore in points) with its 95 % interval from ``geovario.ablation.paired`` (bootstrap
over the test set's independent units plus the seed-to-seed variance), and a verdict:
"helps"/"hurts" when the interval excludes zero, "cannot tell" when it does not.

Usage (from the repository root, with geovario importable):

    python benchmarks/study_table.py tables OUT          # every ablation.json under OUT
    python benchmarks/study_table.py compare A B         # run set B against run set A
    python benchmarks/study_table.py best DIR [DIR ...]  # the selection sweep's winner

A run set is ``FOLDER:VARIANT``, the runs ``FOLDER/runs/VARIANT-seed<k>`` (k = 0, 1, ...);
two run sets pair by seed and must have been scored on the same test images. ``best``
reads the selection-set ablations DIR/ablation.json (``ablate --select-fraction``) and
prints, as command-line flags, the loss settings of the "both" runs whose GeoScore gain
over InfoNCE is largest: the rule is fixed before the numbers are seen.
"""

import argparse
import json
import sys
from pathlib import Path

from geovario.ablation.clusters import resolve_units
from geovario.ablation.paired import compare_runs
from geovario.rundir import EVALUATION_SETTINGS_NAME, read_config

METRICS = [("acc_1km", "acc 1 km", 100.0, +1), ("acc_25km", "acc 25 km", 100.0, +1),
           ("acc_200km", "acc 200 km", 100.0, +1), ("acc_750km", "acc 750 km", 100.0, +1),
           ("acc_2500km", "acc 2500 km", 100.0, +1), ("median_km", "median km", 1.0, -1),
           ("geoscore", "GeoScore", 1.0, +1)]
FLAGS = {"hard_strength": "--hard-strength", "max_weight": "--max-weight",
         "hard_margin": "--hard-margin", "false_negatives": "--false-negatives",
         "false_strength": "--false-strength", "residual_scale": "--residual-scale",
         "rule": "--semivariogram-rule"}


def verdict(cell: dict, better: int) -> str:
    """helps / hurts / cannot tell, from the interval's side of zero."""
    if cell["ci_low"] > 0 or cell["ci_high"] < 0:
        return "helps" if (cell["mean"] > 0) == (better > 0) else "hurts"
    return "cannot tell"


def header() -> list[str]:
    return ["| rows | " + " | ".join(label for _, label, _, _ in METRICS) + " |",
            "|---" * (len(METRICS) + 1) + "|"]


def row(name: str, metrics: dict) -> str:
    """One table row of paired differences."""
    cells = []
    for key, _, scale, better in METRICS:
        cell = metrics[key]
        cells.append(f"{cell['mean'] * scale:+.2f} [{cell['ci_low'] * scale:+.2f}, "
                     f"{cell['ci_high'] * scale:+.2f}] {verdict(cell, better)}")
    return f"| {name} | " + " | ".join(cells) + " |"


def unit_line(paired: dict) -> str:
    unit = paired["unit"]
    what = "images" if unit["resampled"] == "image" else f"clusters ({unit['column']})"
    return (f"{paired['seeds']} seed(s); {unit['units']:,} {what} of {unit['images']:,} "
            f"images resampled, {paired['resamples']:,} times.")


def table(path: Path) -> str:
    """The Markdown table of one ablation.json: baseline level, then each variant's diffs."""
    data = json.loads(path.read_text())
    paired, baseline = data["paired"], data["baseline"]
    scored = data.get("scored_on", {})
    lines = [("Selection set (validation part of the training store)."
              if scored.get("role") == "selection" else "Test set.") + " " + unit_line(paired),
             "", *header()]
    base = data["per_seed"][baseline]
    level = [f"{sum(run[key] * scale for run in base) / len(base):.2f}"
             for key, _, scale, _ in METRICS]
    lines.append(f"| {baseline} (level) | " + " | ".join(level) + " |")
    lines += [row(f"{variant} − {baseline}", metrics)
              for variant, metrics in paired["variants"].items()]
    return "\n".join(lines)


def run_set(text: str) -> list[Path]:
    """FOLDER:VARIANT → its runs, seed 0 first."""
    folder, _, variant = text.rpartition(":")
    runs = []
    while (Path(folder) / "runs" / f"{variant}-seed{len(runs)}").is_dir():
        runs.append(Path(folder) / "runs" / f"{variant}-seed{len(runs)}")
    if not runs:
        sys.exit(f"study_table: no runs {folder}/runs/{variant}-seed0")
    return runs


def compare(a: str, b: str, column: str = "auto") -> str:
    """B − A, paired by seed, clustered as the test store they were scored on."""
    runs_a, runs_b = run_set(a), run_set(b)
    seeds = min(len(runs_a), len(runs_b))
    settings = json.loads((runs_a[0] / EVALUATION_SETTINGS_NAME).read_text())
    units = resolve_units(Path(settings["test_store"]), column)
    cells = compare_runs(runs_a[:seeds], runs_b[:seeds], clusters=units.labels)
    what = "images" if units.labels is None else f"clusters ({units.column})"
    return "\n".join([f"{seeds} seed(s), {what} of {settings['test_store']} resampled.", "",
                      *header(), row(f"{b} − {a}", cells)])


def best(folders: list[str]) -> str:
    """Loss flags of the "both" runs with the largest selection-set GeoScore gain."""
    scored = []
    for folder in folders:
        data = json.loads((Path(folder) / "ablation.json").read_text())
        if data.get("scored_on", {}).get("role") != "selection":
            sys.exit(f"study_table: {folder} was not scored on a selection set")
        gain = data["paired"]["variants"]["both"]["geoscore"]["mean"]
        scored.append((gain, folder))
    gain, folder = max(scored)
    options = read_config(Path(folder) / "runs" / "both-seed0")["train"]["loss_options"]
    print(f"study_table: best {folder} (GeoScore {gain:+.2f} over InfoNCE on the selection "
          "set)", file=sys.stderr)
    return " ".join(f"{flag} {options[key]}" for key, flag in FLAGS.items())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("tables").add_argument("out", type=Path)
    pair = commands.add_parser("compare")
    pair.add_argument("a")
    pair.add_argument("b")
    pair.add_argument("--cluster-column", default="auto")
    commands.add_parser("best").add_argument("folders", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "tables":
        for path in sorted(args.out.rglob("ablation.json")):
            print(f"### {path.parent.relative_to(args.out)}\n\n{table(path)}\n")
    elif args.command == "compare":
        print(compare(args.a, args.b, args.cluster_column))
    else:
        print(best(args.folders))


if __name__ == "__main__":
    main()
