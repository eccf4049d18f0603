"""The single entry point: ``geovario <command>``.

Each command lives in ``geovario.commands.<name>`` with two functions:
``register(parser)`` adds its options and sets ``func``, which parses nothing itself
and hands plain values to the library, which never sees ``args``. Heavy libraries load
inside the command that uses them.
"""

import argparse
import importlib
import os
import sys

from geovario import __version__
from geovario.allocator import keep_freed_memory
from geovario.commands.options import check_device
from geovario.errors import GeovarioError

#: Every command, with the one line ``geovario --help`` shows for it. A command's module
#: is imported only when that command runs, so the CLI starts without torch.
COMMANDS = {
    "ablate": 'train and compare InfoNCE and semivariogram variants',
    "bluemarble": 'build the offline Blue Marble geolocalization benchmark',
    "demo": 'run every stage offline and write a report',
    "download": 'download a dataset (OSV-5M) from the Hugging Face Hub (resumable)',
    "evaluate": 'metrics of a trained run on a test store',
    "extract": "embed a dataset's images into a feature store (resumable)",
    "metrics": "score predictions with OSV-5M's metrics",
    "predict": 'top-k locations with probabilities',
    "push": 'share a trained run on the Hugging Face Hub, with a model card',
    "serve": 'web page and JSON API that locate uploaded photos',
    "store": 'inspect or merge feature stores',
    "train": 'train on a feature store (also under torchrun)',
    "variogram": 'fit a semivariogram of feature dissimilarity vs distance',
}


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows every option's default, unless it has none or its help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "(default:" in text:
            return text
        return super()._get_help_string(action)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser, with the full options of the command named in ``argv`` (if any).

    Every other command gets a bare parser with its one-line help: enough for
    ``geovario --help`` and for argparse to recognise the name.
    """
    parser = argparse.ArgumentParser(
        prog="geovario",
        description="Worldwide image geolocalization with semivariogram-guided contrastive "
        "learning.",
    )
    parser.add_argument("--version", action="version", version=f"geovario {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = next((arg for arg in argv or () if not arg.startswith("-")), None)
    for name, summary in COMMANDS.items():
        command = subparsers.add_parser(
            name, help=summary, formatter_class=DefaultsHelpFormatter)
        if name == chosen:
            importlib.import_module(f"geovario.commands.{name}").register(command)
    return parser


#: Commands whose decoding threads share the cores with the model's threads: OpenMP threads
#: spinning between operators would take the decoders' time (on 2 cores, extraction's user time
#: per 1,024 images 22.0 s -> 16.8-18.0 s; benchmarks/RESULTS.md). Set before torch loads; a
#: user's value wins.
PASSIVE_OPENMP_COMMANDS = ("extract",)


def main(argv: list[str] | None = None) -> int:
    """Run one command; bad input ends in a one-line error and exit code 2."""
    keep_freed_memory()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] and argv[0] in PASSIVE_OPENMP_COMMANDS:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    args = build_parser(argv).parse_args(argv)
    try:
        check_device(args)  # a device that is not there ends here, before any work
        return int(args.func(args) or 0)
    except GeovarioError as error:
        message = str(error).removeprefix(f"{args.command}: ")  # one prefix, not two
        print(f"geovario {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
