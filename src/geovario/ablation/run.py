"""Train every variant with every seed on the same features, evaluate, aggregate.

Each (variant, seed) is one ordinary run directory under ``OUT/runs``; a rerun skips
the runs already evaluated, so an interrupted ablation continues where it stopped.
"""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from geovario.ablation.paired import compare_runs
from geovario.ablation.variants import VARIANTS
from geovario.errors import GeovarioError
from geovario.fileio import finite_or_none, write_json_atomic
from geovario.inference.evaluate import evaluate
from geovario.inference.predictor import Predictor
from geovario.models import ModelConfig
from geovario.rundir import CONFIG_NAME, EVALUATION_NAME, PREDICTIONS_NAME
from geovario.store import open_store
from geovario.train import TrainConfig, train
from geovario.variogram.fitted import FittedVariogram
from geovario.variogram.from_store import fit_store_variogram


def run_ablation(out: Path, train_config: TrainConfig, model_config: ModelConfig, *,
                 test_store: Path, variants: list[str], seeds: int, gallery: str = "geoclip",
                 variogram: Path | None = None, loss_options: dict | None = None,
                 progress: bool = True) -> dict:
    """Run the grid and return ``{variant: [metrics of each seed]}``.

    ``loss_options`` are the semivariogram variants' base settings (strengths, margin);
    each variant overrides the options that define it.

    Raises:
        GeovarioError: for an unknown variant name.
    """
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise GeovarioError(f"ablate: unknown variants {unknown} (choose from "
                            f"{', '.join(VARIANTS.names())})")
    out = Path(out)
    variogram_path = out / "variogram.json"
    if variogram is not None:
        FittedVariogram.load(variogram).save(variogram_path)
    elif not variogram_path.exists():
        store = open_store(train_config.train_store)
        fit_store_variogram(store, seed=train_config.seed, progress=progress).save(variogram_path)
    results: dict[str, list[dict]] = {}
    for name in variants:
        variant = VARIANTS[name]
        for seed in range(seeds):
            run_dir = out / "runs" / f"{name}-seed{seed}"
            options = {**(loss_options or {}), **variant.options,
                       "variogram": str(variogram_path)} \
                if variant.loss == "semivariogram" else {}
            config = replace(train_config, loss=variant.loss, loss_options=options, seed=seed)
            results.setdefault(name, []).append(train_and_evaluate(
                run_dir, replace(model_config, seed=seed), config, test_store=test_store,
                gallery=gallery, progress=progress))
    write_json_atomic(out / "ablation-runs.json", results)
    return results


def train_and_evaluate(run_dir: Path, model_config: ModelConfig, config: TrainConfig, *,
                       test_store: Path, gallery: str = "geoclip",
                       progress: bool = True) -> dict:
    """Train a run (resuming it if it exists) and evaluate it once.

    The metrics are cached in the run's ``evaluation.json``, so a rerun costs nothing.
    """
    done = run_dir / EVALUATION_NAME
    if done.exists():
        return json.loads(done.read_text())
    if (run_dir / CONFIG_NAME).exists():
        train(run_dir, resume=True, progress=progress)
    else:
        train(run_dir, model_config, config, progress=progress)
    predictor = Predictor(run_dir, gallery=gallery, device=config.device, progress=progress)
    metrics = evaluate(predictor, test_store, predictions_csv=run_dir / PREDICTIONS_NAME,
                       progress=progress)
    write_json_atomic(done, {k: finite_or_none(v) for k, v in metrics.items()})
    return metrics


def compare_to_baseline(out: Path, variants: list[str], seeds: int,
                        baseline: str = "infonce", **options) -> dict[str, dict]:
    """Paired differences of every other variant to ``baseline``, seed by seed (see ``paired``).

    Raises:
        GeovarioError: "ablate: the paired comparison needs the baseline ..." when the
            baseline is not among the variants.
    """
    if baseline not in variants:
        raise GeovarioError(f"ablate: the paired comparison needs the baseline {baseline!r} "
                            f"among the variants, got {variants}")

    def runs(name):
        return [Path(out) / "runs" / f"{name}-seed{seed}" for seed in range(seeds)]

    return {name: compare_runs(runs(baseline), runs(name), **options)
            for name in variants if name != baseline}


def summarize(results: dict[str, list[dict]]) -> dict[str, dict[str, tuple[float, float]]]:
    """Mean and standard deviation over seeds of every metric, per variant."""
    summary = {}
    for name, runs in results.items():
        keys = [k for k in runs[0] if k != "n"]
        summary[name] = {}
        for key in keys:
            values = np.array([np.nan if r[key] is None else r[key] for r in runs], float)
            std = float(np.nanstd(values, ddof=1)) if len(values) > 1 else 0.0
            summary[name][key] = (float(np.nanmean(values)), std)
    return summary
