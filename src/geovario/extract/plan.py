"""Which rows to embed, in which batches: a fixed grid, so every run cuts the data alike.

The dataset is cut into chunks of ``chunk_size`` consecutive rows; each chunk becomes
exactly one store shard, and each chunk is cut into batches from its own start. So the
shard boundaries and the contents of every batch depend only on the dataset, the chunk
size and the batch size: a resumed run (which drops the chunks already committed), a
run split over ranks (contiguous runs of whole chunks) and an uninterrupted run feed
the backbone the very same batches and write the very same shards.
"""

from collections.abc import Set
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geovario.data.samples import REASON_COORDS, REASON_MISSING, SampleTable

DEFAULT_CHUNK_SIZE = 16384


@dataclass
class Chunk:
    """One chunk still to do: rows skipped without reading, then batches of rows to read."""

    number: int
    skipped: list[tuple[int, str, str]] = field(default_factory=list)
    batches: list[np.ndarray] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Rows this chunk will go through (skipped and read)."""
        return len(self.skipped) + sum(len(b) for b in self.batches)


def rank_chunks(n_rows: int, chunk_size: int, rank: int = 0, world_size: int = 1) -> range:
    """Chunk numbers of rank ``rank``: a contiguous, near-equal share, in order."""
    n_chunks = -(-n_rows // chunk_size)
    return range(rank * n_chunks // world_size, (rank + 1) * n_chunks // world_size)


def plan_chunks(samples: SampleTable, done: Set[str], chunks: range, *, chunk_size: int,
                batch_size: int) -> list[Chunk]:
    """The chunks among ``chunks`` with rows whose id is not in ``done``, in order.

    Rows with invalid coordinates, or whose image the reader already knows is missing,
    go to ``skipped``; the others are cut into batches of ``batch_size`` rows counted from
    the chunk's start. Chunks commit whole, so a chunk is either done (only its bad rows
    are left, and they add no rows) or untouched (the same batches as a fresh run).
    """
    start, stop = chunks.start * chunk_size, min(chunks.stop * chunk_size, len(samples))
    if start >= stop:
        return []
    rows = np.arange(start, stop)
    if done:
        rows = rows[~pd.Index(samples.ids[start:stop]).isin(list(done))]
    readable = samples.valid_coords()[rows]
    bad_coords = rows[~readable]
    readable[readable] = samples.reader.available(rows[readable])
    missing = np.setdiff1d(rows[~readable], bad_coords, assume_unique=True)
    good = rows[readable]
    edges = np.arange(chunks.start, chunks.stop + 1) * chunk_size
    cuts = [np.searchsorted(part, edges) for part in (rows, bad_coords, missing, good)]
    plan = []
    for k, number in enumerate(chunks):
        (a, b), (c0, c1), (m0, m1), (g0, g1) = ((cut[k], cut[k + 1]) for cut in cuts)
        if a == b:
            continue
        skipped = [(int(r), REASON_COORDS, "({!r}, {!r})".format(*samples.coords[r].tolist()))
                   for r in bad_coords[c0:c1]]
        skipped += [(int(r), REASON_MISSING, "not in the dataset's images")
                    for r in missing[m0:m1]]
        mine = good[g0:g1]
        batches = [mine[i:i + batch_size] for i in range(0, len(mine), batch_size)]
        plan.append(Chunk(number, skipped=sorted(skipped), batches=batches))
    return plan
