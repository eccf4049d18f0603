"""File-level primitives that make a store crash-safe: atomic writes, a lock, clean-up.

Every file is written under a temporary name in the store directory, flushed and
fsynced, then renamed over its final name with ``os.replace`` (atomic on POSIX
within one file system), and the directory is fsynced so the rename itself survives
a power cut. A writer that dies leaves at worst temporary or unlisted files, which
readers ignore and the next writer removes.
"""

import os
import re
from collections.abc import Iterable
from pathlib import Path

from geovario.errors import GeovarioError
from geovario.fileio import TEMP_PREFIX

try:  # POSIX only; elsewhere concurrent writers are simply not detected.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

_SHARD_FILE = re.compile(r"^shard-(\d+)\.(npy|parquet)$")


def shard_file_names(number: int) -> tuple[str, str]:
    """The features and index file names of shard ``number``."""
    return f"shard-{number:06d}.npy", f"shard-{number:06d}.parquet"


def shard_number(name: str) -> int:
    """The number in a shard file name, or -1 when the name is not a shard file."""
    match = _SHARD_FILE.match(name)
    return int(match.group(1)) if match else -1


def remove_orphans(directory: Path, listed: Iterable[str]) -> list[str]:
    """Delete temporary files and shard files that the manifest does not list.

    Only names a writer could have produced (``.tmp-*``, ``shard-N.npy``,
    ``shard-N.parquet``) are touched; any other file in the directory is left alone.
    Returns the removed names, sorted.
    """
    keep = set(listed)
    removed = []
    for entry in Path(directory).iterdir():
        name = entry.name
        orphan = name.startswith(TEMP_PREFIX) or (shard_number(name) >= 0 and name not in keep)
        if orphan and entry.is_file():
            entry.unlink(missing_ok=True)
            removed.append(name)
    return sorted(removed)


class DirectoryLock:
    """An exclusive advisory lock on a store directory, held while a writer is open.

    Two writers on one store would delete each other's temporary files; the lock turns
    that into a clear error. The kernel releases it when the process dies (SIGKILL too).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or fail at once.

        Raises:
            GeovarioError: "<dir>: another writer has this store open" when it is held.
        """
        fd = os.open(self.directory, os.O_RDONLY)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise GeovarioError(f"{self.directory}: another writer has this store open "
                                    "(only one writer per store at a time)") from None
        self._fd = fd

    def release(self) -> None:
        """Release the lock; safe to call twice."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
