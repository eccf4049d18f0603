"""Options shared by the commands that load a run: ``predict``, ``serve`` and ``evaluate``."""

import argparse

RUN_HELP = ("run directory, hf:OWNER/NAME[@REVISION] on the Hugging Face Hub, or geoclip "
            "(the published GeoCLIP, ready without training)")


def add_run(parser: argparse.ArgumentParser) -> None:
    """The positional ``RUN``."""
    parser.add_argument("run", metavar="RUN", help=RUN_HELP)


def add_backbone_override(parser: argparse.ArgumentParser) -> None:
    """``--backbone``: embed photos with a local copy of the run's backbone."""
    parser.add_argument(
        "--backbone", default=None, metavar="NAME",
        help="the backbone the run was trained on, under another name: e.g. clip:DIR, a "
        "local copy of openai/clip-vit-large-patch14 for geoclip (default: the run's own)")


def add_gallery(parser: argparse.ArgumentParser) -> None:
    """``--gallery``."""
    parser.add_argument("--gallery", default="geoclip",
                        help="geoclip (published 100K), store:DIR, or a CSV of coordinates")
