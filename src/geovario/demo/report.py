"""The demo's report: what ran, the semivariogram, both models' metrics, figures, timings."""

import json
from pathlib import Path

import numpy as np

from geovario.demo.document import Document
from geovario.demo.plots import error_cdf, error_map, examples, negatives_over_training
from geovario.fileio import write_bytes_atomic
from geovario.metrics.compute import METRIC_KEYS

UNITS = {"mean_km": "km", "median_km": "km", "geoscore": ""}


def _value(key: str, value) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    if key == "n":
        return f"{int(value)}"
    if key.startswith("acc_"):
        return f"{100 * value:.2f} %"
    return f"{value:,.1f} {UNITS.get(key, '')}".strip()


def _difference(key: str, a, b) -> str:
    if key == "n" or a is None or b is None:
        return ""
    delta = b - a
    if key.startswith("acc_"):
        return f"{100 * delta:+.2f} pts"
    return f"{delta:+,.1f}"


def metrics_table(metrics: dict[str, dict]) -> tuple[list[str], list[list[str]]]:
    """Rows of metrics; columns InfoNCE, semivariogram and their difference."""
    base, ours = metrics["infonce"], metrics["semivariogram"]
    rows = [[key, _value(key, base.get(key)), _value(key, ours.get(key)),
             _difference(key, base.get(key), ours.get(key))]
            for key in METRIC_KEYS if key in base]
    return ["metric", "GeoCLIP (InfoNCE)", "semivariogram loss", "difference"], rows


def baseline_table(out: Path) -> tuple[list[str], list[list[str]]]:
    """Reference predictors on the same split: a random training location and 1-NN."""
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
        "Marble Next Generation, ~7.4 km per source pixel) around GeoNames places, train and "
        "test far apart. It is not street view: numbers here say nothing about OSV-5M; they "
        "show every stage of the method working end to end.")
    doc.heading("Settings")
    doc.pre(json.dumps({"demo": vars(result.settings), "train_config":
                        json.loads((out / "runs" / "semivariogram" / "config.json")
                                   .read_text())["train"]}, indent=2))
    v = result.variogram
    doc.heading("Semivariogram of the training features")
    gamma = v.gamma_at_km()
    doc.table(["model", "nugget", "structures: partial sill, range (shape)", "sill",
               "practical range", "slope range", "γ at 1 / 25 / 200 km"],
              [[v.model, f"{v.nugget:.4f}",
                "; ".join(f"{s.model} {s.partial_sill:.4f}, {s.range_km:,.0f} km"
                          + ("" if s.shape is None else f" ({s.shape:.3f})")
                          for s in v.structures),
                f"{v.sill:.4f}", f"{v.range_km:,.0f} km", f"{v.slope_range_km():,.0f} km",
                " / ".join(f"{gamma[k]:.4f}" for k in ("1", "25", "200"))]])
    doc.image(out / "variogram.png", "Cosine dissimilarity of EfficientNet-Lite0 features "
              "against distance, the fitted model, nugget, sill and range")
    doc.heading("Metrics on the test split (published 100K GeoCLIP gallery)")
    doc.table(*metrics_table(result.metrics))
    doc.paragraph(
        "For scale, two predictors that learn no geography: a random training location, "
        "and the location of the training image nearest in feature space (1-NN). Every "
        "test place lies hundreds of km from every training place (a spatially blocked "
        "split), so accuracy within 1, 25 and 200 km is out of reach by construction.")
    doc.table(*baseline_table(out))
    doc.image(error_cdf(predictions, figures / "error_cdf.png"),
              "Cumulative distribution of the error, both models")
    doc.image(error_map(predictions, background, figures / "error_map.png"),
              "Test places coloured by error")
    doc.image(_examples(result, data, background, figures / "examples.png"),
              "Test patches and each model's top-5 guesses (area ∝ probability)")
    doc.heading("What the semivariogram loss does during training")
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
    from geovario.predict import Predictor
    from geovario.store import open_store

    store = open_store(result.out / "features" / "test")
    count = min(result.settings.examples, len(store))
    rows = np.linspace(0, len(store) - 1, count).astype(int)
    samples = load_osv5m(data, "test")
    position = {sample_id: i for i, sample_id in enumerate(samples.ids)}
    patches = [samples.reader.read(position[store.ids[row]]) for row in rows]
    top5 = {}
    for name in result.metrics:
        predictor = Predictor(result.out / "runs" / name, gallery=result.settings.gallery,
                              device="cpu")
        out = predictor.predict(store.features(rows), k=5)
        top5[name] = (out.topk_coords, out.topk_probs)
    return examples(patches, store.coords[rows], top5, background, path)
