"""Options that every command spells, defaults and documents the same way."""

import argparse

DEVICE_HELP = "auto (cuda when a GPU is visible, else cpu), cpu, cuda or cuda:N"


def add_device(parser: argparse.ArgumentParser, what: str) -> None:
    """``--device``, default ``auto``; ``what`` says what runs there."""
    parser.add_argument("--device", default="auto", help=f"where {what} runs: {DEVICE_HELP}")


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """``--quiet``: no progress bars (results and errors are still printed)."""
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
