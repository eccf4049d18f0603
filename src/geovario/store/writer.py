"""Write a feature store shard by shard, so that extraction can be killed and resumed.

Backbone extraction over millions of images takes hours; whatever stops it (a
pre-empted job, SIGKILL, a full disk) must cost at most the rows not yet committed.
Each full shard is committed by putting its two files in place and then atomically
replacing the manifest; reopening the store with the same settings resumes, and
``written_ids`` tells the extraction loop which images to skip.
"""

from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from geovario.errors import GeovarioError
from geovario.fileio import TEMP_PREFIX, atomic_write
from geovario.geo import validate_coords
from geovario.store.files import DirectoryLock, remove_orphans, shard_file_names, shard_number
from geovario.store.manifest import (
    MANIFEST_NAME,
    Manifest,
    Shard,
    normalize_preprocessing,
    read_manifest,
    write_manifest,
)
from geovario.store.reader import INDEX_COLUMNS, FeatureStore

DEFAULT_SHARD_SIZE = 65536  # 65536 x 768 float16 = 96 MiB per features file
_LISTED = 5


class _IdView(AbstractSet):
    """Read-only live view of a writer's ids (committed and buffered)."""

    def __init__(self, ids: set[str]) -> None:
        self._ids = ids

    def __contains__(self, item: object) -> bool:
        return item in self._ids

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


class StoreWriter:
    """Append (id, coordinates, embedding, labels) rows to a new or partly written store.

    Use as a context manager: rows are buffered and a shard is committed every
    ``shard_size`` rows and on ``flush``/``close``/exit. Only one writer may hold a store.

    Example:
        with StoreWriter(out, backbone="clip-vit-l-14", dim=768) as writer:
            for ids, coords, images in loader:
                todo = [i not in writer.written_ids for i in ids]
                ...
                writer.append(ids, coords, embed(images))
    """

    def __init__(self, path: str | Path, *, backbone: str, dim: int,
                 preprocessing: Mapping | None = None, label_columns: Sequence[str] = (),
                 shard_size: int = DEFAULT_SHARD_SIZE) -> None:
        """Create the store at ``path``, or resume it if it already exists.

        Raises:
            GeovarioError: "StoreWriter: ..." for an invalid argument; "<dir>: backbone /
                dim / preprocessing / label columns mismatch: store has X, writer was given Y"
                when resuming; "<dir>: exists but is not a feature store ..." for a non-empty
                directory without a manifest, "<path>: exists and is not a directory";
                "<dir>: another writer has this store open".
        """
        if not isinstance(backbone, str) or not backbone:
            raise GeovarioError(f"StoreWriter: backbone must be a non-empty string, got "
                                f"{backbone!r}")
        for name, value in (("dim", dim), ("shard_size", shard_size)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise GeovarioError(f"StoreWriter: {name} must be a positive integer, got "
                                    f"{value!r}")
        columns = tuple(label_columns)
        for column in columns:
            if not isinstance(column, str) or not column or column in INDEX_COLUMNS:
                raise GeovarioError(f"StoreWriter: label column {column!r} must be a non-empty "
                                    f"string other than {', '.join(INDEX_COLUMNS)}")
        if len(set(columns)) != len(columns):
            raise GeovarioError(f"StoreWriter: label columns repeat a name: {list(columns)}")
        self.path = Path(path)
        self.shard_size = int(shard_size)
        wanted = Manifest(backbone=backbone, dim=int(dim), label_columns=columns,
                          preprocessing=normalize_preprocessing(preprocessing,
                                                                source="StoreWriter"))
        if self.path.exists() and not self.path.is_dir():
            raise GeovarioError(f"{self.path}: exists and is not a directory")
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = DirectoryLock(self.path)
        self._lock.acquire()
        try:
            self._manifest = self._open_or_create(wanted)
            remove_orphans(self.path, [n for s in self._manifest.shards for n in (s.features,
                                                                                   s.index)])
            self._ids: set[str] = set(FeatureStore(self.path).ids)
        except BaseException:
            self._lock.release()
            raise
        self._next_shard = 1 + max((shard_number(s.features) for s in self._manifest.shards),
                                   default=-1)
        self._buffer: list[tuple[list[str], np.ndarray, np.ndarray, dict[str, list]]] = []
        self._buffered = 0
        self._closed = False

    def _open_or_create(self, wanted: Manifest) -> Manifest:
        """Return the existing manifest if compatible, else write an empty one."""
        if (self.path / MANIFEST_NAME).is_file():
            existing = read_manifest(self.path)
            for field in ("backbone", "dim", "preprocessing", "label_columns"):
                have, given = getattr(existing, field), getattr(wanted, field)
                if have != given:
                    name = field.replace("_", " ")
                    raise GeovarioError(f"{self.path}: {name} mismatch: store has {have!r}, "
                                        f"writer was given {given!r}")
            return existing
        others = sorted(p.name for p in self.path.iterdir() if not p.name.startswith(TEMP_PREFIX))
        if others:
            raise GeovarioError(f"{self.path}: exists but is not a feature store (no "
                                f"{MANIFEST_NAME}) and is not empty (holds {others[0]!r}); "
                                "refusing to write into it")
        write_manifest(self.path, wanted)
        return wanted

    # -- public API ------------------------------------------------------------------------

    @property
    def manifest(self) -> Manifest:
        """The committed manifest (buffered rows are not in it yet)."""
        return self._manifest

    @property
    def written_ids(self) -> AbstractSet:
        """Live read-only set of ids already in the store or buffered: skip these."""
        return _IdView(self._ids)

    def append(self, ids: Sequence, coords, features, labels: Mapping | None = None) -> None:
        """Buffer rows, committing a shard each time ``shard_size`` rows are waiting.

        Everything is checked before anything is buffered, so a failed call adds nothing.
        ``ids`` are stored as ``str(id)``; ``features`` are stored as float16; ``labels``
        maps every label column to one value per row (``None``/NaN for missing).

        Raises:
            GeovarioError: "<dir>: features have shape S, expected (N, dim) for N ids";
                "<dir>: coords have R rows, expected N"; invalid coordinates (from
                ``validate_coords``, naming the ids); "<dir>: duplicate id(s) ..."; features
                that are NaN/infinite in float16; a label column missing, unexpected or of
                the wrong length; "<dir>: writer is closed".
        """
        if self._closed:
            raise GeovarioError(f"{self.path}: writer is closed")
        if isinstance(ids, str | bytes):
            raise GeovarioError(f"{self.path}: ids must be a sequence of ids, got one string "
                                f"{ids!r}")
        ids = [str(i) for i in ids]
        n = len(ids)
        features = np.asarray(features)
        if features.shape != (n, self._manifest.dim) or features.dtype.kind not in "fiu":
            raise GeovarioError(f"{self.path}: features have shape {features.shape} dtype "
                                f"{features.dtype}, expected ({n}, {self._manifest.dim}) numeric "
                                f"for {n} ids")
        coords = np.asarray(coords, dtype=np.float64)
        if coords.ndim == 2 and coords.shape[0] != n:
            raise GeovarioError(f"{self.path}: coords have {coords.shape[0]} rows, expected {n} "
                                "(one per id)")
        coords = validate_coords(coords, source=str(self.path), ids=ids).copy()
        self._check_new_ids(ids)
        with np.errstate(over="ignore"):  # overflow becomes inf, reported just below
            halves = features.astype(np.float16)  # a copy: the caller may reuse its buffer
        finite = np.isfinite(halves).all(axis=1)
        if not finite.all():
            bad = [ids[i] for i in np.flatnonzero(~finite)[:_LISTED]]
            raise GeovarioError(f"{self.path}: features of {int((~finite).sum())} rows are NaN "
                                f"or infinite in float16 (|x| > 65504) at ids {bad}")
        label_values = self._check_labels(labels, n)
        self._buffer.append((ids, coords, halves, label_values))
        self._buffered += n
        self._ids.update(ids)
        while self._buffered >= self.shard_size:
            self._commit(self.shard_size)

    def flush(self) -> None:
        """Commit every buffered row now (the last shard may be short)."""
        if self._buffered:
            self._commit(self._buffered)

    def close(self) -> None:
        """Flush and release the store; further appends fail."""
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            self._lock.release()

    def __enter__(self) -> "StoreWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        """Commit what was buffered even on error: every buffered row was already checked."""
        if exc_type is None:
            self.close()
            return
        try:
            self.close()
        except Exception:  # the original exception matters more than a failed final flush
            self._closed = True
            self._lock.release()

    # -- internals -------------------------------------------------------------------------

    def _check_new_ids(self, ids: list[str]) -> None:
        seen: set[str] = set()
        duplicates = []
        for i in ids:
            if i in self._ids or i in seen:
                duplicates.append(i)
            seen.add(i)
        if duplicates:
            raise GeovarioError(f"{self.path}: duplicate id(s) {duplicates[:_LISTED]} (already in "
                                "the store or repeated in this batch)")

    def _check_labels(self, labels: Mapping | None, n: int) -> dict[str, list]:
        columns = self._manifest.label_columns
        given = [] if labels is None else [str(c) for c in labels]
        if not columns and not given:
            return {}
        missing = [c for c in columns if c not in given]
        extra = [c for c in given if c not in columns]
        if missing or extra:
            raise GeovarioError(f"{self.path}: labels must have exactly the columns "
                                f"{list(columns)}; missing {missing}, unexpected {extra}")
        values = {}
        for column in columns:
            column_values = list(labels[column])
            if len(column_values) != n:
                raise GeovarioError(f"{self.path}: label column {column!r} has "
                                    f"{len(column_values)} values, expected {n}")
            values[column] = [None if pd.isna(v) else str(v) for v in column_values]
        return values

    def _commit(self, rows: int) -> None:
        """Write the first ``rows`` buffered rows as one shard and commit it in the manifest.

        The buffer is only trimmed after the manifest is replaced, so a failed commit
        leaves both the store and the writer as they were (the next try rewrites the shard).
        """
        if len(self._buffer) > 1:  # one chunk: a single huge append, keep views, no copy
            self._buffer = [(
                [i for chunk in self._buffer for i in chunk[0]],
                np.concatenate([chunk[1] for chunk in self._buffer]),
                np.concatenate([chunk[2] for chunk in self._buffer]),
                {c: [v for chunk in self._buffer for v in chunk[3][c]]
                 for c in self._manifest.label_columns},
            )]
        ids, coords, features, labels = self._buffer[0]
        features_name, index_name = shard_file_names(self._next_shard)
        head = features[:rows]
        atomic_write(self.path / features_name, lambda fh: np.save(fh, head, allow_pickle=False))
        table = pa.table({
            "id": pa.array(ids[:rows], type=pa.string()),
            "latitude": pa.array(coords[:rows, 0], type=pa.float64()),
            "longitude": pa.array(coords[:rows, 1], type=pa.float64()),
            **{c: pa.array(v[:rows], type=pa.string()) for c, v in labels.items()},
        })
        atomic_write(self.path / index_name, lambda fh: pq.write_table(table, fh))
        manifest = self._manifest.with_shards(
            (*self._manifest.shards, Shard(features=features_name, index=index_name, rows=rows)))
        write_manifest(self.path, manifest)
        self._manifest = manifest
        self._next_shard += 1
        self._buffered -= rows
        self._buffer = []
        if self._buffered:
            self._buffer = [(ids[rows:], coords[rows:], features[rows:],
                             {c: v[rows:] for c, v in labels.items()})]
