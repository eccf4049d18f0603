"""Evaluation of a trained run on a test feature store with the OSV-5M metrics."""

from pathlib import Path

import numpy as np
import pandas as pd

from geovario.csvtable import LABEL_COLUMNS
from geovario.fileio import write_bytes_atomic
from geovario.geo import haversine_km
from geovario.inference.predictor import Predictor
from geovario.metrics import compute_metrics
from geovario.progress import progress_bar
from geovario.store import open_store


def evaluate(predictor: Predictor, store_path: str | Path, *, refine: int | None = None,
             predictions_csv: str | Path | None = None, batch_size: int = 4096,
             progress: bool = False) -> dict[str, float]:
    """Predict every image of a store and return the metrics.

    Admin-level accuracies are included when the store carries OSV-5M's ``unique_*``
    labels; per-image predictions go to ``predictions_csv`` when given. A store of
    test-time views (``extract --tta tencrop``) is scored with the views' logits averaged.

    Raises:
        GeovarioError: for a store of another backbone than the run's.
    """
    store = open_store(store_path)
    predictor.check_backbone(store.backbone, str(store.path))
    coords, probs = [], []
    with progress_bar(total=len(store), desc="evaluate", unit="img", enabled=progress) as bar:
        for _, features in store.iter_batches(batch_size):
            if store.views > 1:  # TenCrop views side by side: their logits are averaged
                features = features.reshape(len(features), store.views, -1)
            out = predictor.predict_features(features, k=1, refine=refine)
            coords.append(out.coords)
            probs.append(out.topk_probs[:, 0])
            bar.update(len(features))
    pred, prob = np.concatenate(coords), np.concatenate(probs)
    has_labels = all(column in store.label_columns for column in LABEL_COLUMNS)
    labels = store.index[list(LABEL_COLUMNS)] if has_labels else None
    metrics = compute_metrics(pred, store.coords, labels)
    if predictions_csv is not None:
        truth = store.coords
        table = pd.DataFrame({
            "id": store.ids, "latitude": pred[:, 0], "longitude": pred[:, 1],
            "true_latitude": truth[:, 0], "true_longitude": truth[:, 1],
            "error_km": haversine_km(pred[:, 0], pred[:, 1], truth[:, 0], truth[:, 1]),
            "probability": prob,
        })
        write_bytes_atomic(Path(predictions_csv), table.to_csv(index=False).encode())
    return metrics
