"""``geovario predict``: top-k locations of image files, or of images already in a feature store."""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from geovario.commands.options import add_device, add_quiet
from geovario.commands.run_options import add_backbone_override, add_gallery, add_run
from geovario.errors import GeovarioError


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``predict`` command."""
    parser.description = (
        "Locate photos: the top-k gallery locations, their probabilities and the nearest "
        "named place. Give image files or folders of them (embedded with the run's own "
        "backbone), or --store for images already embedded in a feature store. "
        "RUN may be geoclip, the published GeoCLIP: geovario predict geoclip photo.jpg")
    add_run(parser)
    parser.add_argument("images", type=Path, nargs="*", metavar="IMAGE",
                        help="image files or folders of them; unreadable files are "
                        "reported and skipped")
    parser.add_argument("--recursive", action="store_true",
                        help="also read the images in the folders' subfolders")
    parser.add_argument("--store", type=Path, default=None,
                        help="feature store holding the images (instead of image files)")
    parser.add_argument("--ids", default=None,
                        help="with --store: comma-separated image ids (default: every image)")
    parser.add_argument("--top-k", type=int, default=5,
                        help="candidates per image, best first, each with its probability")
    add_gallery(parser)
    add_backbone_override(parser)
    parser.add_argument("--batch-size", type=int, default=16, help="images embedded at once")
    parser.add_argument("--tta", choices=["tencrop"], default=None,
                        help="image files: average the logits of ten crops per image "
                        "(GeoCLIP's test protocol; ten backbone passes each). A store's "
                        "views are chosen at extraction (extract --tta)")
    add_device(parser, "the backbone and the model")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_quiet(parser)
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


def check_inputs(args: argparse.Namespace) -> None:
    """Image files or a store, not both, not neither; --ids only with a store.

    Raises:
        GeovarioError: "predict: give image files or --store DIR", "... not both",
            "predict: --tta applies to image files ...", "predict: --ids needs --store",
            or "predict: --top-k and --batch-size must be >= 1".
    """
    if bool(args.images) == (args.store is not None):
        raise GeovarioError("predict: give image files or --store DIR"
                            + (", not both" if args.images else ""))
    if args.tta is not None and args.store is not None:
        raise GeovarioError("predict: --tta applies to image files; a store holds the views "
                            "it was extracted with (geovario extract --tta)")
    if args.ids is not None and args.store is None:
        raise GeovarioError("predict: --ids needs --store (image files are named directly)")
    if args.top_k < 1 or args.batch_size < 1:
        raise GeovarioError(f"predict: --top-k and --batch-size must be >= 1, got "
                            f"{args.top_k} and {args.batch_size}")


def store_results(predictor, store, rows: np.ndarray, k: int) -> list[dict]:
    """One ``{"id", "predictions"}`` entry per selected row of an open store."""
    from geovario.inference.images import place_names

    predictor.check_backbone(store.backbone, str(store.path))
    features = store.features(rows)
    if store.views > 1:  # TenCrop views side by side: their logits are averaged
        features = features.reshape(len(rows), store.views, -1)
    out = predictor.predict_features(features, k=k)
    names = iter(place_names(out.topk_coords.reshape(-1, 2)))
    return [{"id": str(store.ids[row]),
             "predictions": [{"latitude": float(lat), "longitude": float(lon),
                              "probability": float(p), "place": next(names)}
                             for (lat, lon), p in zip(out.topk_coords[i], out.topk_probs[i],
                                                      strict=True)]}
            for i, row in enumerate(rows)]


def expand_folders(paths: list[Path], recursive: bool) -> list[Path]:
    """Files as given; each folder replaced by its images, sorted, saying how many.

    Raises:
        GeovarioError: "<folder>: no images in it ..." for a folder without any.
    """
    from geovario.inference.images import find_images

    files: list[Path] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        found, skipped = find_images(path, recursive)
        more = (f"; {skipped} subfolder{'s' * (skipped > 1)} not searched (--recursive)"
                if skipped else "")
        if not found:
            raise GeovarioError(f"{path}: no images in it (.jpg, .png, .tif, .webp... "
                                f"files){more}")
        print(f"{path}: {len(found)} image{'s' * (len(found) > 1)}{more}", file=sys.stderr)
        files += found
    return files


def run(args: argparse.Namespace) -> int:
    """Predict and print one block (or one JSON list entry) per image.

    Exit code 0 when at least one image was located, 2 when every image file failed.

    Raises:
        GeovarioError: any of :func:`check_inputs` or :func:`expand_folders`, "predict:
            --top-k K is more than the N locations of gallery G", or the run's, store's
            or backbone's own errors.
    """
    from geovario.inference.images import predict_images
    from geovario.inference.predictor import Predictor
    from geovario.store import open_store

    check_inputs(args)
    if args.store is not None:
        store = open_store(args.store)
        rows = select_rows(store.ids, args.ids, str(store.path))
    else:
        images = expand_folders(args.images, args.recursive)
    predictor = Predictor(args.run, device=args.device, gallery=args.gallery,
                          backbone=args.backbone, progress=not args.quiet, tta=args.tta)
    if args.top_k > len(predictor.gallery):
        raise GeovarioError(f"predict: --top-k {args.top_k} is more than the "
                            f"{len(predictor.gallery)} locations of gallery "
                            f"{predictor.gallery.name}")
    if args.store is not None:
        results = store_results(predictor, store, rows, args.top_k)
    else:
        predictor.preload()
        results = [r.to_dict() for r in predict_images(
            predictor, images, k=args.top_k, batch_size=args.batch_size,
            progress=not args.quiet and len(images) > args.batch_size)]
    failed = sum("error" in result for result in results)
    if args.json:
        print(json.dumps({"run": args.run, "backbone": predictor.backbone,
                          "gallery": predictor.gallery.name, "results": results}))
    else:
        print_text(results)
    if failed:
        print(f"geovario predict: {failed} of {len(results)} images could not be used",
              file=sys.stderr)
    return 2 if results and failed == len(results) else 0


def print_text(results: list[dict]) -> None:
    """A block per image: its name, then one line per guess; a failed image is one line."""
    for result in results:
        name = result.get("id", result.get("image"))
        if "error" in result:
            print(f"{name}: error: {result['error']}")
            continue
        print(name)
        for rank, p in enumerate(result["predictions"], start=1):
            print(f"  {rank}. {p['latitude']:9.4f} {p['longitude']:10.4f}  "
                  f"p = {p['probability']:.4f}  {p['place']}")
