"""What several tests share: generated fixtures, fakes and the child scripts of subprocess tests.

Tests import these modules (never each other); the ``*_child.py`` scripts run as programs.
"""

from pathlib import Path

HELPERS = Path(__file__).resolve().parent


def child_script(name: str) -> str:
    """Path of a ``*_child.py`` program in this folder, for ``subprocess`` and torchrun."""
    return str(HELPERS / name)
