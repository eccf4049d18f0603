"""The demo's report: what ran, the semivariogram, both models' metrics, figures, timings."""

import json
from pathlib import Path

import numpy as np

from geovario.ablation.clusters import resolve_units
from geovario.ablation.paired import compare_runs
from geovario.demo.document import Document
from geovario.demo.plots import error_cdf, error_map, examples, negatives_over_training
from geovario.fileio import write_bytes_atomic
from geovario.metrics.compute import METRIC_KEYS
from geovario.metrics.distance import THRESHOLDS_KM
from geovario.rundir import read_train_section

UNITS = {"mean_km": "km", "median_km": "km", "geoscore": ""}


def _value(key: str, value) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    if key == "n":
        return f"{int(value)}"
    if key.startswith("acc_"):
        return f"{100 * value:.2f} %"
    return f"{value:,.1f} {UNITS.get(key, '')}".strip()


def _difference(key: str, cell: dict | None) -> str:
    """Paired difference [95 % CI] (accuracies in points); ``*`` where the CI excludes 0."""
    if cell is None:
        return ""
    factor, unit = (100, " pts") if key.startswith("acc_") else (1, "")
    mark = "*" if cell["ci_low"] > 0 or cell["ci_high"] < 0 else ""
    return (f"{factor * cell['mean']:+,.1f}{unit} [{factor * cell['ci_low']:+,.1f}, "
            f"{factor * cell['ci_high']:+,.1f}]{mark}")


def metrics_table(metrics: dict[str, dict],
                  paired: dict[str, dict]) -> tuple[list[str], list[list[str]]]:
    """Rows of metrics; columns InfoNCE, semivariogram and their paired difference."""
    base, ours = metrics["infonce"], metrics["semivariogram"]
    rows = [[key, _value(key, base.get(key)), _value(key, ours.get(key)),
             _difference(key, paired.get(key))]
            for key in METRIC_KEYS if key in base]
    return ["metric", "GeoCLIP (InfoNCE)", "semivariogram loss",
            "difference [95 % CI]"], rows


def verdict(paired: dict[str, dict]) -> str:
    """One sentence per threshold group saying where the interval lets a reader conclude."""
    better, worse, unclear = [], [], []
    for radius in THRESHOLDS_KM:
        cell = paired[f"acc_{radius}km"]
        if cell["ci_low"] == cell["ci_high"] == 0:
            continue  # neither model reaches (or misses) anything at this radius
        (better if cell["ci_low"] > 0 else worse if cell["ci_high"] < 0 else unclear).append(
            f"{radius:,} km")
    parts = []
    if better:
        parts.append(f"the semivariogram loss is more accurate within {', '.join(better)}")
    if worse:
        parts.append(f"it is less accurate within {', '.join(worse)}")
    if unclear:
        parts.append(f"within {', '.join(unclear)} the interval includes zero, so this run "
                     "cannot tell the two losses apart")
    text = "; ".join(parts) if parts else "no threshold separates the two losses"
    return (f"Read with the intervals: {text}. One seed and one test set: a paired bootstrap "
            "over the test places says how much the difference depends on which places were "
            "drawn, not how it varies from seed to seed (`geovario ablate` adds that).")


def baseline_table(out: Path) -> tuple[list[str], list[list[str]]]:
    """Reference predictors on the same test set: a random training location and 1-NN."""
    from geovario.metrics import distance_metrics
    from geovario.store import open_store

    train, test = open_store(out / "features" / "train"), open_store(out / "features" / "test")
    features = train.load_features()
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    queries = test.load_features()
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    nearest = (queries @ features.T).argmax(axis=1)
    guesses = {
        "random training location": np.random.default_rng(0).integers(0, len(train),
                                                                      len(test)),
        "nearest training image (1-NN)": nearest,
    }
    keys = ("mean_km", "median_km", "geoscore", "acc_750km", "acc_2500km")
    rows = []
    for name, rows_ in guesses.items():
        metrics = distance_metrics(train.coords[rows_], test.coords)
        rows.append([name, *(_value(k, metrics[k]) for k in keys)])
    return ["reference", *keys], rows


LAYOUT_NOTES = {
    "interleaved": "Test places are other towns all over the world, at least 25 km from "
                   "every training place (an OSV-5M-like layout), so the 25 and 200 km "
                   "accuracies are measurable; within 1 km only a gallery point that happens "
                   "to lie next to a test place can score.",
    "blocked": "Every test place lies hundreds of km from every training place (a "
               "spatially blocked layout), so accuracy within 1, 25 and 200 km is out of "
               "reach by construction.",
}


def loss_statistics(log: Path) -> tuple[list[str], list[list[str]]]:
    """The loss's settings and, averaged over the logged steps after warm-up, what it found."""
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    settings = next((r for r in records if r.get("kind") == "loss"), {})
    steps = [r for r in records if "hard_share" in r and "kind" not in r and not r.get("warmup")]
    rows = [["rule, range", f"{settings.get('rule', '?')}, {settings.get('range_km', 0):,.0f} "
                            f"km ({settings.get('range_definition', '')})"],
            ["hard margin (per-lag spreads)", f"{settings.get('hard_margin', 0):g}"]]
    for key, label in (("hard_share", "hard negatives, share of all negatives"),
                       ("hard_share_of_far", "hard negatives, share of negatives beyond the "
                                             "range"),
                       ("false_share", "false negatives, share of all negatives"),
                       ("hard_mean_weight", "mean weight of a hard negative"),
                       ("false_mean_weight", "mean weight of a false negative")):
        values = [r[key] for r in steps if key in r]
        if values:
            rows.append([label, f"{100 * np.mean(values):.2f} %" if "share" in key
                         else f"{np.mean(values):.3f}"])
    return ["", "semivariogram loss (mean over logged steps after the warm-up)"], rows


def write_report(result, data: Path) -> dict[str, Path]:
    """report.md (with PNGs beside it) and a self-contained report.html in the demo folder."""
    from geovario.data.bluemarble import load_bmng

    out = result.out
    figures = out / "figures"
    background = load_bmng()[::4, ::4]
    predictions = {name: out / "runs" / name / "predictions.csv" for name in result.metrics}
    doc = Document("geovario demo: semivariogram-guided contrastive geolocalization")
    doc.paragraph(
        "Offline run on the Blue Marble benchmark: satellite true-colour patches (NASA Blue "
        "Marble Next Generation, ~7.4 km per source pixel) around GeoNames places, "
        f"{result.settings.layout} layout. It is not street view: numbers here say nothing "
        "about OSV-5M; they show every stage of the method working end to end.")
    doc.heading("Settings")
    doc.pre(json.dumps({"demo": vars(result.settings), "train_config":
                        read_train_section(out / "runs" / "semivariogram")}, indent=2))
    v = result.variogram
    doc.heading("Semivariogram of the training features")
    gamma = v.gamma_at_km()
    doc.table(["family", "nugget", "structures: family partial sill, range (shape)", "sill",
               "practical range", "slope range", "γ at 1 / 25 / 200 km"],
              [[v.model, f"{v.nugget:.4f}",
                "; ".join(f"{s.model} {s.partial_sill:.4f}, {s.range_km:,.0f} km"
                          + ("" if s.shape is None else f" ({s.shape:.3f})")
                          for s in v.structures),
                f"{v.sill:.4f}", f"{v.range_km:,.0f} km", f"{v.slope_range_km():,.0f} km",
                " / ".join(f"{gamma[k]:.4f}" for k in ("1", "25", "200"))]])
    doc.image(out / "variogram.png", "Cosine dissimilarity of EfficientNet-Lite0 features "
              "against distance, the fitted curve, nugget, sill and range")
    doc.heading("Metrics on the test split (published 100K GeoCLIP gallery)")
    units = resolve_units(out / "features" / "test", "auto", data / "test.csv")
    paired = compare_runs([out / "runs" / "infonce"], [out / "runs" / "semivariogram"],
                          clusters=units.labels)
    doc.table(*metrics_table(result.metrics, paired))
    doc.paragraph("Differences are semivariogram − InfoNCE, trained with the same seed and "
                  "batches and scored on the same images; the interval is a 95 % paired "
                  "bootstrap over the test set's independent units (its regions on the "
                  "blocked layout, its places on the interleaved one), * where it excludes "
                  "zero. " + verdict(paired))
    doc.paragraph(
        "For scale, two predictors that learn no geography: a random training location, "
        "and the location of the training image nearest in feature space (1-NN). "
        + LAYOUT_NOTES[result.settings.layout])
    doc.table(*baseline_table(out))
    doc.image(error_cdf(predictions, figures / "error_cdf.png"),
              "Cumulative distribution of the error, both models")
    doc.image(error_map(predictions, background, figures / "error_map.png"),
              "Test places coloured by error")
    doc.image(_examples(result, data, background, figures / "examples.png"),
              "Test patches and each model's top-5 guesses (area ∝ probability)")
    doc.heading("What the semivariogram loss does during training")
    doc.table(*loss_statistics(out / "runs" / "semivariogram" / "metrics.jsonl"))
    doc.image(negatives_over_training(out / "runs" / "semivariogram" / "metrics.jsonl",
                                      figures / "negatives.png"),
              "Share of negatives classified hard and false at each logged step")
    doc.heading("Timings")
    doc.table(["stage", "seconds"],
              [[k + (" (built by an earlier run, reused)" if k in result.reused else ""),
                f"{s:,.1f}"] for k, s in result.timings.items()])
    write_bytes_atomic(out / "report.md", doc.markdown(out).encode())
    write_bytes_atomic(out / "report.html", doc.html().encode())
    return {"markdown": out / "report.md", "html": out / "report.html"}


def _examples(result, data: Path, background, path: Path) -> Path:
    from geovario.data.osv5m import load_osv5m
    from geovario.demo.stages import example_rows, example_top5
    from geovario.inference.predictor import Predictor
    from geovario.store import open_store

    test_store = result.out / "features" / "test"
    store = open_store(test_store)
    rows = example_rows(result.settings.examples, len(store))
    samples = load_osv5m(data, "test")
    position = {sample_id: i for i, sample_id in enumerate(samples.ids)}
    patches = [samples.reader.read(position[store.ids[row]]) for row in rows]
    top5 = dict(result.examples)
    for name in result.metrics:
        if name not in top5:  # a rerun that only writes the report
            predictor = Predictor(result.out / "runs" / name, gallery=result.settings.gallery,
                                  device="cpu")
            top5[name] = example_top5(predictor, test_store, result.settings.examples)
    return examples(patches, store.coords[rows], top5, background, path)
