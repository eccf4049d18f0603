"""``geovario download osv5m``: fetch OSV-5M's CSV and zip shards from the Hugging Face Hub."""

import argparse
import re
from pathlib import Path

from geovario.commands.options import add_split
from geovario.errors import GeovarioError

_SPEC = re.compile(r"^\d+(-\d+)?$")


def parse_shards(text: str) -> list[int]:
    """Shard numbers from "0,1,4-6" (-> [0, 1, 4, 5, 6]), sorted, without repeats.

    Raises:
        GeovarioError: "download: --shards 'X' is not a list of shard numbers like 0,1,4-7".
    """
    numbers: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not _SPEC.match(part):
            raise GeovarioError(f"download: --shards {text!r} is not a list of shard numbers "
                                "like 0,1,4-7")
        low, _, high = part.partition("-")
        numbers.update(range(int(low), int(high or low) + 1))
    return sorted(numbers)


def run(args: argparse.Namespace) -> int:
    """Download what is missing and say what was fetched and what was already there."""
    from geovario.data.osv5m import REPO_ID, download_osv5m

    if args.shards is not None and args.num_shards is not None:
        raise GeovarioError("download: give --shards or --num-shards, not both")
    if args.num_shards is not None and args.num_shards < 1:
        raise GeovarioError(f"download: --num-shards must be a positive integer, got "
                            f"{args.num_shards}")
    shards = parse_shards(args.shards) if args.shards is not None else None
    report = download_osv5m(args.root, args.split, shards=shards, num_shards=args.num_shards)
    for path in report.present:
        print(f"present  {path}")
    for path in report.fetched:
        print(f"fetched  {path}")
    print(f"download: {len(report.fetched)} fetched, {len(report.present)} already present "
          f"({REPO_ID}, split {args.split}) in {args.root}")
    return 0


def register(parser: argparse.ArgumentParser) -> None:
    """Add ``download`` to the top-level parser."""
    parser.description = (
        "Download OSV-5M's <split>.csv and zip shards images/<split>/NN.zip from "
        "the Hugging Face dataset osv5m/osv5m into ROOT. Files already present and complete "
        "are skipped, so rerunning resumes.")
    parser.add_argument("dataset", choices=("osv5m",), help="dataset to download")
    parser.add_argument("--root", type=Path, required=True, help="local folder")
    add_split(parser, "which part of the dataset")
    parser.add_argument("--shards", help="shard numbers, e.g. 0,1 or 0-3 (default: all)")
    parser.add_argument("--num-shards", type=int, help="the first N shards")
    parser.set_defaults(func=run)
