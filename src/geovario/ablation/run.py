"""Train every variant with every seed on the same features, evaluate, aggregate.

Each (variant, seed) is one ordinary run directory under ``OUT/runs``; a rerun skips
the runs already evaluated, so an interrupted ablation continues where it stopped. A run
(or its cached evaluation) is reused only when it was made with exactly the settings asked
for now; anything else is refused rather than silently reported under the new settings.
"""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from geovario.ablation.paired import compare_runs, read_errors
from geovario.ablation.selection import SelectionSplit, selection_stores
from geovario.ablation.variants import VARIANTS
from geovario.errors import GeovarioError
from geovario.fileio import finite_or_none, read_json, write_json_atomic
from geovario.inference.evaluate import evaluate
from geovario.inference.predictor import Predictor
from geovario.losses.options import LOSS_OPTIONS
from geovario.models import ModelConfig
from geovario.rundir import (
    CONFIG_NAME,
    EVALUATION_NAME,
    EVALUATION_SETTINGS_NAME,
    PREDICTIONS_NAME,
    read_config,
)
from geovario.store import open_store
from geovario.train import TrainConfig, train
from geovario.variogram.from_store import fit_store_variogram
from geovario.variogram.regional import load_variogram

#: Training settings that do not change what a run computes.
#: (The variogram: every run keeps its own copy of OUT/variogram.json, which
#: :func:`_variogram` keeps the same for the whole folder.)
_NOT_COMPARED = ("device", "checkpoint_every", "log_every", "variogram")


def run_ablation(out: Path, train_config: TrainConfig, model_config: ModelConfig, *,
                 test_store: Path | None, variants: list[str], seeds: int,
                 gallery: str = "geoclip", variogram: Path | None = None,
                 loss_options: dict | None = None, selection: SelectionSplit | None = None,
                 progress: bool = True) -> tuple[dict, Path]:
    """Run the grid; return ``{variant: [metrics of each seed]}`` and the store scored on.

    ``loss_options`` are the semivariogram variants' base settings (strengths, margin);
    each variant overrides the options that define it. With ``selection`` every run trains
    on the training part of the training store and is scored on its validation part
    (:mod:`geovario.ablation.selection`); ``test_store`` must then be None.

    Raises:
        GeovarioError: for an unknown variant name, a test store together with (or
            without) a selection split, a variogram other than the one the runs in
            ``out`` used, or a run made with other settings (see :func:`check_run`).
    """
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise GeovarioError(f"ablate: unknown variants {unknown} (choose from "
                            f"{', '.join(VARIANTS.names())})")
    if (test_store is None) == (selection is None):
        raise GeovarioError("ablate: give --test-store, or --select-fraction to score on a "
                            "validation part of the training store (not both: selection "
                            "never looks at the test set)")
    out = Path(out)
    if selection is not None:
        train_part, test_store = selection_stores(train_config.train_store, out / "selection",
                                                  selection)
        train_config = replace(train_config, train_store=str(train_part))
    variogram_path = _variogram(out, variogram, train_config, progress)
    results: dict[str, list[dict]] = {}
    for name in variants:
        variant = VARIANTS[name]
        for seed in range(seeds):
            # The base options are those of the losses whose flags set them.
            options = {**(loss_options or {}), **variant.options} \
                if variant.loss in LOSS_OPTIONS else {}
            config = replace(train_config, loss=variant.loss, loss_options=options, seed=seed,
                             variogram=str(variogram_path))
            results.setdefault(name, []).append(train_and_evaluate(
                out / "runs" / f"{name}-seed{seed}", replace(model_config, seed=seed), config,
                test_store=test_store, gallery=gallery, progress=progress))
    write_json_atomic(out / "ablation-runs.json", results)
    return results, Path(test_store)


def _variogram(out: Path, given: Path | None, config: TrainConfig, progress: bool) -> Path:
    """OUT/variogram.json: a copy of ``given``, or fitted on the training store once."""
    path = out / "variogram.json"
    if given is not None:
        wanted = load_variogram(given)  # global or region-wise
        if path.exists() and load_variogram(path).to_dict() != wanted.to_dict():
            raise GeovarioError(f"ablate: {path} (which the runs in {out} used) differs from "
                                f"--variogram {given}; use another ablation folder")
        wanted.save(path)
    elif not path.exists():
        store = open_store(config.train_store)
        fit_store_variogram(store, seed=config.seed, progress=progress).save(path)
    return path


def _flatten(data: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _comparable(model_config: ModelConfig, config: TrainConfig) -> dict:
    """The settings that decide what a run computes, as its config.json stores them."""
    data = json.loads(json.dumps({"model": model_config.to_dict(), "train": config.to_dict()}))
    for key in _NOT_COMPARED:
        data["train"].pop(key, None)
    data["train"]["train_store"] = str(Path(data["train"]["train_store"]).resolve())
    return data


def check_run(run_dir: Path, model_config: ModelConfig, config: TrainConfig) -> None:
    """Refuse to reuse ``run_dir`` when it was started with other settings.

    Raises:
        GeovarioError: "ablate: <run> was trained with <key>=<old>, not <key>=<new> ...".
    """
    stored = read_config(run_dir)
    have = {"model": dict(stored.get("model", {})), "train": dict(stored.get("train", {}))}
    for key in _NOT_COMPARED:
        have["train"].pop(key, None)
    if "train_store" in have["train"]:
        have["train"]["train_store"] = str(Path(have["train"]["train_store"]).resolve())
    have, want = _flatten(have), _flatten(_comparable(model_config, config))
    for key in sorted(set(have) | set(want)):
        if have.get(key) != want.get(key):
            raise GeovarioError(f"ablate: {run_dir} was trained with {key}={have.get(key)!r}, "
                                f"not {key}={want.get(key)!r} as asked; use another ablation "
                                "folder or remove the run")


def train_and_evaluate(run_dir: Path, model_config: ModelConfig, config: TrainConfig, *,
                       test_store: Path, gallery: str = "geoclip",
                       progress: bool = True) -> dict:
    """Train a run (resuming it if it exists) and evaluate it once.

    The metrics are cached in the run's ``evaluation.json`` beside what they were
    computed on (``evaluation-settings.json``: test store, gallery), so a rerun costs
    nothing; a cache without that record is evaluated again.

    Raises:
        GeovarioError: from :func:`check_run`, or "ablate: <run> was evaluated on ... not
            on ..." when the cached evaluation used another test store or gallery.
    """
    run_dir = Path(run_dir)
    settings = {"test_store": str(Path(test_store).resolve()), "gallery": str(gallery)}
    if (run_dir / CONFIG_NAME).exists():
        check_run(run_dir, model_config, config)
    done, record = run_dir / EVALUATION_NAME, run_dir / EVALUATION_SETTINGS_NAME
    if done.exists() and record.exists():
        have = read_json(record)
        if have != settings:
            raise GeovarioError(f"ablate: {done} was evaluated with {have}, not {settings} as "
                                "asked; use another ablation folder or remove the file")
        return read_json(done)
    if (run_dir / CONFIG_NAME).exists():
        train(run_dir, resume=True, progress=progress)
    else:
        train(run_dir, model_config, config, progress=progress)
    predictor = Predictor(run_dir, gallery=gallery, device=config.device, progress=progress)
    metrics = evaluate(predictor, test_store, predictions_csv=run_dir / PREDICTIONS_NAME,
                       progress=progress)
    write_json_atomic(done, {k: finite_or_none(v) for k, v in metrics.items()})
    write_json_atomic(record, settings)
    return metrics


def run_dirs(out: Path, name: str, seeds: int) -> list[Path]:
    """The run directories of one variant, seed 0 first."""
    return [Path(out) / "runs" / f"{name}-seed{seed}" for seed in range(seeds)]


def compare_to_baseline(out: Path, variants: list[str], seeds: int, baseline: str = "infonce",
                        *, units=None, **options) -> dict:
    """Paired differences of every other variant to ``baseline`` (see ``paired``).

    Args:
        units: a :class:`~geovario.ablation.clusters.TestUnits` (None: every image).

    Returns:
        ``{"unit": {...}, "seeds", "resamples", "confidence", "variants": {name: cells}}``.

    Raises:
        GeovarioError: "ablate: the paired comparison needs the baseline ..." when the
            baseline is not among the variants.
    """
    from geovario.ablation.clusters import TestUnits
    from geovario.ablation.paired import CONFIDENCE, RESAMPLES

    if baseline not in variants:
        raise GeovarioError(f"ablate: the paired comparison needs the baseline {baseline!r} "
                            f"among the variants, got {variants}")
    units = units or TestUnits(None, None, "every test image is its own unit")
    ids, _ = read_errors(run_dirs(out, baseline, seeds)[0])
    return {"unit": units.describe(ids), "seeds": seeds,
            "resamples": options.get("resamples", RESAMPLES), "confidence": CONFIDENCE,
            "variants": {name: compare_runs(run_dirs(out, baseline, seeds),
                                            run_dirs(out, name, seeds),
                                            clusters=units.labels, **options)
                         for name in variants if name != baseline}}


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
