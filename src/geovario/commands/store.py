"""``geovario store``: inspect and merge feature stores (``info``, ``merge``)."""

import argparse
import json
from pathlib import Path
from typing import Any

from geovario.store import DEFAULT_SHARD_SIZE, FeatureStore, merge_stores, open_store

COUNTRY_COLUMN = "unique_country"


def summarize(store: FeatureStore) -> dict[str, Any]:
    """The manifest plus counts read from the index: rows, distinct countries, extent."""
    summary: dict[str, Any] = {"path": str(store.path), **store.manifest.to_json()}
    summary["rows"] = len(store)
    summary["shard_count"] = len(store.manifest.shards)
    summary["distinct_countries"] = None
    if COUNTRY_COLUMN in store.label_columns:
        summary["distinct_countries"] = int(store.index[COUNTRY_COLUMN].nunique(dropna=True))
    coords = store.coords
    for axis, name in enumerate(("latitude", "longitude")):
        summary[name] = ([float(coords[:, axis].min()), float(coords[:, axis].max())]
                         if len(coords) else None)
    return summary


def format_summary(summary: dict[str, Any]) -> str:
    """Human-readable lines for ``store info``."""
    def extent(pair: list[float] | None) -> str:
        return "n/a (empty store)" if pair is None else f"{pair[0]:.4f} .. {pair[1]:.4f}"

    lines = [
        ("store", summary["path"]),
        ("format", f"{summary['format']} v{summary['format_version']} "
                   f"(written by geovario {summary['geovario_version']})"),
        ("backbone", summary["backbone"]),
        ("dim", f"{summary['dim']} ({summary['dtype']})"),
        ("rows", f"{summary['rows']:,} in {summary['shard_count']} shards"),
        ("preprocessing", json.dumps(summary["preprocessing"], sort_keys=True)),
        ("label columns", ", ".join(summary["label_columns"]) or "none"),
    ]
    if summary["distinct_countries"] is not None:
        lines.append(("countries", f"{summary['distinct_countries']} distinct"))
    lines += [("latitude", extent(summary["latitude"])),
              ("longitude", extent(summary["longitude"]))]
    return "\n".join(f"{key + ':':<15} {value}" for key, value in lines)


def run_info(args: argparse.Namespace) -> int:
    """Print a store's manifest and counts, as text or one JSON object."""
    summary = summarize(open_store(args.dir))
    print(json.dumps(summary) if args.json else format_summary(summary))
    return 0


def run_merge(args: argparse.Namespace) -> int:
    """Merge the parts, in the order given, into a new store."""
    store = merge_stores(args.parts, args.out, shard_size=args.shard_size)
    print(f"merged {len(args.parts)} stores into {store.path}: {len(store):,} rows")
    return 0


def run(args: argparse.Namespace) -> int:
    """Dispatch ``geovario store <subcommand>``."""
    return {"info": run_info, "merge": run_merge}[args.store_command](args)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def register(parser: argparse.ArgumentParser) -> None:
    """Add ``store`` with its own sub-commands to the top-level parser."""
    parser.description = "Inspect or merge feature stores."
    parser.set_defaults(func=run)
    commands = parser.add_subparsers(dest="store_command", required=True, metavar="SUBCOMMAND")

    info = commands.add_parser("info", help="print a store's manifest and counts",
                               description="Print a store's manifest (backbone, dim, dtype, "
                                           "shards, preprocessing, label columns) and counts.")
    info.add_argument("dir", type=Path, help="store directory")
    info.add_argument("--json", action="store_true", help="print one JSON object")

    merge = commands.add_parser("merge", help="concatenate stores into a new one",
                                description="Concatenate compatible stores (same backbone, "
                                            "dim, preprocessing, label columns, no shared ids) "
                                            "in the order given.")
    merge.add_argument("parts", type=Path, nargs="+", help="part store directories, in order")
    merge.add_argument("--out", type=Path, required=True, help="new store directory")
    merge.add_argument("--shard-size", type=_positive_int, default=DEFAULT_SHARD_SIZE,
                       help=f"rows per shard of the merged store (default {DEFAULT_SHARD_SIZE})")
