"""The single entry point: ``geovario <command>``.

Each command lives in ``geovario.commands.<name>`` with two functions:
``register(subparsers)`` adds its parser and sets ``func``; the function parses
nothing itself and hands plain values to the library, which never sees ``args``.
"""

import argparse
import importlib
import sys

from geovario import __version__
from geovario.allocator import keep_freed_memory
from geovario.errors import GeovarioError

COMMANDS = (
    "ablate", "bluemarble", "demo", "download", "evaluate", "extract", "metrics", "predict",
    "serve", "store", "train", "variogram",
)


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every command's sub-parser registered."""
    parser = argparse.ArgumentParser(
        prog="geovario",
        description="Worldwide image geolocalization with semivariogram-guided contrastive "
        "learning.",
    )
    parser.add_argument("--version", action="version", version=f"geovario {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"geovario.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; bad input ends in a one-line error and exit code 2."""
    keep_freed_memory()
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except GeovarioError as error:
        print(f"geovario {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
