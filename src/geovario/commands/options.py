"""Options that every command spells, defaults and documents the same way.

The rules (README, "Conventions"): a run folder, or a folder of runs (``ablate``,
``demo``), is a command's first positional argument whether it writes or reads it;
``--out`` names anything else a command writes; ``--split`` is train or test; a Blue
Marble layout is ``--layout``. A renamed spelling keeps working for one release through
:func:`add_deprecated`, which says so in one line on stderr.
"""

import argparse
import os
import sys
from pathlib import Path

from geovario.data.splits import LAYOUTS, SPLITS
from geovario.errors import GeovarioError

DEVICE_HELP = "auto (cuda when a GPU is visible, else cpu), cpu, cuda or cuda:N"
QUIET_HELP = "no progress bars (results and errors are still printed)"
#: The release that drops the spellings deprecated in this one.
REMOVED_IN = "0.2"


def add_device(parser: argparse.ArgumentParser, what: str, *,
               unset: str | None = None) -> None:
    """``--device``, default ``auto``; ``what`` says what runs there.

    ``unset``: the option defaults to None instead, so the command can tell "not given"
    (``train --resume`` keeps the run's device), and its help shows this text as the default.
    """
    shown = "" if unset is None else f" (default: {unset})"
    parser.add_argument("--device", default="auto" if unset is None else None,
                        help=f"where {what} runs: {DEVICE_HELP}{shown}")


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
    parser.add_argument("--quiet", action="store_true", help=QUIET_HELP)


def add_split(parser: argparse.ArgumentParser, help: str) -> None:
    """``--split train|test``, default train."""
    parser.add_argument("--split", choices=SPLITS, default="train", help=help)


def add_layout(parser: argparse.ArgumentParser, default: str, help: str) -> None:
    """``--layout`` of a Blue Marble build, choices :data:`LAYOUTS`; ``--split`` is its old name."""
    parser.add_argument("--layout", choices=LAYOUTS, default=default, help=help)
    add_deprecated(parser, "--split", new="--layout", dest="layout", unset=default,
                   choices=LAYOUTS)


def add_folder(parser: argparse.ArgumentParser, metavar: str, help: str, *,
               default: Path | None = None) -> None:
    """The command's run folder (or folder of runs) as its first positional, ``metavar``.

    Its dest is ``metavar.lower()``, None when not given and no ``default``
    (:func:`required_folder` refuses that). ``--out DIR`` is its deprecated spelling;
    giving both is a usage error.
    """
    dest = metavar.lower()
    add_deprecated(parser, "--out", new=metavar, use=f"{parser.prog} {metavar}", dest=dest,
                   unset=default, type=Path, default=default)
    parser.add_argument(dest, nargs="?", metavar=metavar, action=_Folder,
                        default=argparse.SUPPRESS, help=help, unset=default,
                        clash=f"{metavar} given twice (--out is its old spelling)")


def required_folder(folder: Path | None, metavar: str) -> Path:
    """The folder :func:`add_folder` read.

    Raises:
        GeovarioError: "the following arguments are required: RUN", as argparse says it.
    """
    if folder is None:
        raise GeovarioError(f"the following arguments are required: {metavar}")
    return folder


def add_deprecated(parser: argparse.ArgumentParser, old: str, *, new: str, dest: str,
                   use: str | None = None, unset=None, **kwargs) -> None:
    """Keep the flag ``old`` working for one release, hidden from ``--help``.

    It stores into ``dest``, the new spelling ``new``'s, after one line on stderr:
    "geovario train: --out is deprecated; use geovario train RUN (--out will be removed in
    0.2)" (``use``: what that line says to use, default ``new``). ``unset``: the value of
    ``dest`` when the new spelling was not given; any other is a usage error (both given).
    ``kwargs`` are argparse's (``type``, ``choices``; ``default`` only where the old
    spelling had its own).
    """
    kwargs.setdefault("default", argparse.SUPPRESS)
    parser.add_argument(old, dest=dest, action=_Deprecated, use=use or new, unset=unset,
                        clash=f"{new} given twice ({old} is its old spelling)",
                        help=argparse.SUPPRESS, **kwargs)


def deprecation_line(prog: str, old: str, use: str) -> str:
    """What a deprecated spelling prints on stderr (without the newline)."""
    return f"{prog}: {old} is deprecated; use {use} ({old} will be removed in {REMOVED_IN})"


class _Once(argparse.Action):
    """Stores a value that two spellings may give; both given is a usage error."""

    def __init__(self, option_strings, dest, *, unset, clash: str, **kwargs):
        super().__init__(option_strings, dest, **kwargs)
        self.unset, self.clash = unset, clash

    def __call__(self, parser, namespace, values, option_string=None):
        if getattr(namespace, self.dest, self.unset) != self.unset:
            parser.error(self.clash)
        setattr(namespace, self.dest, values)


class _Folder(_Once):
    """The positional folder, a Path; argparse calls it with its default when it is absent."""

    def __call__(self, parser, namespace, values, option_string=None):
        if values != argparse.SUPPRESS:
            super().__call__(parser, namespace, Path(values), option_string)


class _Deprecated(_Once):
    """An old spelling: one line on stderr (rank 0 only, under torchrun), then as the new."""

    def __init__(self, option_strings, dest, *, use: str, **kwargs):
        super().__init__(option_strings, dest, **kwargs)
        self.use = use

    def __call__(self, parser, namespace, values, option_string=None):
        if os.environ.get("RANK", "0") == "0":
            print(deprecation_line(parser.prog, option_string, self.use), file=sys.stderr)
        super().__call__(parser, namespace, values, option_string)
