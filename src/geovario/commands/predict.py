"""``geovario predict``: top-k locations of images already embedded in a feature store."""

import argparse
import json
from pathlib import Path

import numpy as np

from geovario.errors import GeovarioError


def register(subparsers) -> None:
    """Add the ``predict`` command."""
    parser = subparsers.add_parser(
        "predict", help="top-k locations with probabilities",
        description="Locate images of a feature store with a trained run: the top-k gallery "
        "locations and their probabilities.")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--store", type=Path, required=True, help="store holding the images")
    parser.add_argument("--ids", default=None,
                        help="comma-separated image ids (default: every image of the store)")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--gallery", default="geoclip",
                        help="geoclip (published 100K), store:DIR, or a CSV of coordinates")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def select_rows(ids: np.ndarray, wanted: str | None, source: str) -> np.ndarray:
    """Row numbers of the wanted ids (all rows when none are named).

    Raises:
        GeovarioError: "<source>: N ids not found: ..." naming the first few.
    """
    if wanted is None:
        return np.arange(len(ids))
    names = [name.strip() for name in wanted.split(",") if name.strip()]
    position = {name: row for row, name in enumerate(ids)}
    missing = [name for name in names if name not in position]
    if missing:
        raise GeovarioError(f"{source}: {len(missing)} ids not found: "
                            f"{', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}")
    return np.array([position[name] for name in names], dtype=np.int64)


def run(args: argparse.Namespace) -> int:
    """Predict and print one block (or one JSON list entry) per image."""
    from geovario.predict import Predictor
    from geovario.store import open_store

    store = open_store(args.store)
    rows = select_rows(store.ids, args.ids, str(store.path))
    predictor = Predictor(args.run_dir, gallery=args.gallery, device=args.device)
    predictor.check_backbone(store.backbone, str(store.path))
    out = predictor.predict(store.features(rows), k=args.top_k)
    results = [
        {"id": str(store.ids[row]),
         "predictions": [{"latitude": float(lat), "longitude": float(lon),
                          "probability": float(p)}
                         for (lat, lon), p in zip(out.topk_coords[i], out.topk_probs[i],
                                                  strict=True)]}
        for i, row in enumerate(rows)
    ]
    if args.json:
        print(json.dumps({"run": str(args.run_dir), "gallery": predictor.gallery.name,
                          "results": results}))
        return 0
    for result in results:
        print(result["id"])
        for rank, p in enumerate(result["predictions"], start=1):
            print(f"  {rank}. {p['latitude']:9.4f} {p['longitude']:10.4f}  "
                  f"p = {p['probability']:.4f}")
    return 0
