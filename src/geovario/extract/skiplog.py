"""``skipped.csv``: the samples extraction left out, one line each, safe to kill and resume.

The file is append-only with columns ``id,reason,detail``. Lines are appended and
fsynced when a chunk commits; a process killed mid-write leaves at worst a partial
last line, which the next run cuts off before appending. Ids are deduplicated, so a
resumed run that meets the same bad sample again does not list it twice.
"""

import csv
import io
import os
from collections import Counter
from pathlib import Path

SKIP_LOG_NAME = "skipped.csv"
_HEADER = ("id", "reason", "detail")


class SkipLog:
    """The skipped samples of one store: loaded on open, appended on ``commit``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.entries: dict[str, tuple[str, str]] = {}
        self._pending: list[tuple[str, str, str]] = []
        if self.path.is_file():
            self._load()

    def _load(self) -> None:
        data = self.path.read_bytes()
        complete = data[:data.rfind(b"\n") + 1]
        if len(complete) != len(data):  # a partial line from a killed writer
            with open(self.path, "r+b") as fh:
                fh.truncate(len(complete))
        for row in list(csv.reader(io.StringIO(complete.decode("utf-8"))))[1:]:
            if len(row) == len(_HEADER):
                self.entries.setdefault(row[0], (row[1], row[2]))

    def add(self, sample_id: str, reason: str, detail: str = "") -> None:
        """Record a skipped sample unless its id is already listed."""
        if sample_id in self.entries:
            return
        detail = " ".join(str(detail).split())  # one record, one line
        self.entries[sample_id] = (reason, detail)
        self._pending.append((sample_id, reason, detail))

    def commit(self) -> None:
        """Append the new entries to the file and fsync it."""
        if not self._pending:
            return
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        if not self.path.is_file() or self.path.stat().st_size == 0:
            writer.writerow(_HEADER)
        writer.writerows(self._pending)
        with open(self.path, "ab") as fh:
            fh.write(text.getvalue().encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        self._pending = []

    def counts(self) -> Counter:
        """Number of listed samples per reason."""
        return Counter(reason for reason, _ in self.entries.values())

    def __len__(self) -> int:
        return len(self.entries)
