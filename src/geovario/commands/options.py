"""Options that every command spells, defaults and documents the same way."""

import argparse

DEVICE_HELP = "auto (cuda when a GPU is visible, else cpu), cpu, cuda or cuda:N"


def add_device(parser: argparse.ArgumentParser, what: str) -> None:
    """``--device``, default ``auto``; ``what`` says what runs there."""
    parser.add_argument("--device", default="auto", help=f"where {what} runs: {DEVICE_HELP}")


def check_device(args: argparse.Namespace) -> None:
    """Refuse a ``--device`` that is not a device, or not on this machine, before any work.

    The CLI calls it for every command that has the option; ``auto`` and ``cpu`` are always
    there, so they are let through without importing torch.

    Raises:
        GeovarioError: from :func:`geovario.distributed.resolve_device`, e.g. "--device
            cuda: no CUDA device is visible here; use --device cpu or auto".
    """
    device = getattr(args, "device", None)
    if device is None or device in ("auto", "cpu"):
        return
    from geovario.distributed import resolve_device

    resolve_device(device)


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """``--quiet``: no progress bars (results and errors are still printed)."""
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
