"""``geovario extract``: embed a dataset's images with a frozen backbone into a feature store.

Runs as one process, or under ``torchrun --nproc_per_node N -m geovario.cli extract ...``
with each rank extracting its share; rerunning the same command resumes (Ctrl-C says it).
"""

import argparse
import shlex
import sys
from pathlib import Path

from geovario.commands.options import add_device, add_quiet, add_split
from geovario.data.datasets import list_datasets, load_dataset
from geovario.distributed import cleanup, detect_env, init_distributed
from geovario.errors import GeovarioError
from geovario.extract import DEFAULT_CHUNK_SIZE, extract_features
from geovario.store import open_store

# Ranks wait for each other at barriers around hours of work: bound them generously.
BARRIER_TIMEOUT_S = 24 * 3600.0


def run(args: argparse.Namespace) -> int:
    """Extract; Ctrl-C keeps the committed shards and says how to go on (exit 130)."""
    try:
        return _extract(args)
    except KeyboardInterrupt:
        if detect_env().is_main:
            print(f"extract: interrupted; {_saved(args.out)}; go on with the same command: "
                  f"{_again(args)}", file=sys.stderr)
        return 130


def _extract(args: argparse.Namespace) -> int:
    """Load the dataset and the backbone, extract, print the one-line summary on rank 0."""
    for name in ("limit", "batch_size", "shard_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise GeovarioError(f"extract: --{name.replace('_', '-')} must be a positive "
                                f"integer, got {value}")
    labels = [c.strip() for c in args.labels.split(",") if c.strip()] if args.labels else None
    samples = load_dataset(args.dataset, args.root, split=args.split, csv=args.csv,
                           labels=labels, present_only=args.present_only, limit=args.limit)
    env, device = init_distributed(args.device, timeout_s=BARRIER_TIMEOUT_S)
    try:
        from geovario.backbones import load_backbone

        backbone = load_backbone(args.backbone, device=device)
        if args.tta:
            from geovario.backbones.views import with_views

            backbone = with_views(backbone, args.tta)
        report = extract_features(samples, backbone, args.out, batch_size=args.batch_size,
                                  workers=args.workers, chunk_size=args.shard_size, env=env,
                                  progress=not args.quiet)
    finally:
        cleanup()
    if env.is_main:
        print(report.summary())
    return 0


def _saved(out: Path) -> str:
    """What an interrupted extraction kept: the rows of its committed shards."""
    try:
        rows = len(open_store(out))
    except GeovarioError:  # interrupted before the store existed
        return "nothing was saved yet"
    return f"{out} keeps the {rows:,} images of its committed shards"


def _again(args: argparse.Namespace) -> str:
    """The command line that continues this extraction: every option that shapes the store."""
    if detect_env().is_distributed:
        return "the same torchrun command"
    words = ["geovario", "extract"]
    for flag in ("dataset", "root", "split", "csv", "labels", "present_only", "limit",
                 "backbone", "tta", "out", "batch_size", "shard_size", "workers", "device"):
        value = getattr(args, flag)
        if value is True:
            words.append(f"--{flag.replace('_', '-')}")
        elif value not in (None, False, "auto"):
            words += [f"--{flag.replace('_', '-')}", str(value)]
    return shlex.join(words)


def register(parser: argparse.ArgumentParser) -> None:
    """Add ``extract`` to the top-level parser."""
    parser.description = (
        "Embed every image of a dataset with a frozen backbone into a feature "
        "store. Bad rows (invalid coordinates, missing or corrupt images) are skipped and "
        "listed in OUT/skipped.csv. Rerun the same command to resume after an interruption; "
        "run it under torchrun to split the work over processes.")
    parser.add_argument("--dataset", required=True, metavar="NAME",
                        help=f"one of {', '.join(list_datasets())} (bluemarble: a folder "
                        "written by `geovario bluemarble build`)")
    parser.add_argument("--root", type=Path, required=True,
                        help="dataset folder (OSV-5M layout, or the image folder for csv)")
    add_split(parser, "which part of an osv5m or bluemarble dataset")
    parser.add_argument("--csv", type=Path, help="metadata CSV (csv dataset): path or id, "
                        "latitude, longitude, optional labels")
    parser.add_argument("--labels", help="comma-separated label columns to copy (default: "
                        "the OSV-5M unique_* columns present)")
    parser.add_argument("--present-only", action="store_true",
                        help="osv5m: keep only rows whose image is in a local zip shard")
    parser.add_argument("--backbone", required=True,
                        help="backbone name, e.g. efficientnet-lite0 or "
                        "clip:openai/clip-vit-large-patch14")
    parser.add_argument("--tta", choices=["tencrop"], default=None,
                        help="test-time augmentation: tencrop stores the embeddings of ten "
                        "crops per image (GeoCLIP's test protocol: four corners, centre and "
                        "their mirror images); evaluate and predict average their logits. "
                        "For test stores only: train and variogram refuse such a store")
    parser.add_argument("--out", type=Path, required=True, help="feature store directory")
    parser.add_argument("--batch-size", type=int, default=64, help="images per forward pass")
    parser.add_argument("--workers", type=int, default=2,
                        help="threads decoding images beside the model, in this process "
                        "(per process under torchrun; 0: decode between batches)")
    add_device(parser, "the backbone (cuda is cuda:<local rank> under torchrun)")
    parser.add_argument("--limit", type=int, help="only the first N rows of the dataset")
    parser.add_argument("--shard-size", type=int, default=DEFAULT_CHUNK_SIZE,
                        help="dataset rows per committed shard, the most a kill can lose "
                        f"(default {DEFAULT_CHUNK_SIZE}); keep it when resuming")
    add_quiet(parser)
    parser.set_defaults(func=run)
