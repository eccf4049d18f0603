"""Read a feature store: memory-mapped float16 shards behind one global row numbering.

Training runs read the same millions of embeddings again and again; memory-mapping
the ``.npy`` shards lets the OS page cache share them between processes and epochs
without loading the whole store, and ``features(rows)`` gathers any mini-batch.
"""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from geovario.errors import GeovarioError, input_error
from geovario.store.manifest import MANIFEST_NAME, Manifest, Shard, read_manifest

INDEX_COLUMNS = ("id", "latitude", "longitude")
_DTYPES = (np.dtype(np.float16), np.dtype(np.float32))


class FeatureStore:
    """A read-only view of a store: the index in memory, the features memory-mapped.

    Rows are numbered globally in shard order; ``index``, ``ids``, ``coords`` and the
    feature methods all use that numbering.
    """

    def __init__(self, path: str | Path) -> None:
        """Open the store at ``path`` and check every listed shard (headers only).

        Raises:
            GeovarioError: when the directory is not a store or its manifest is invalid (see
                ``read_manifest``); "<file>: shard file listed in manifest.json is missing";
                "<file>: shard has shape ..., expected ..." or an unreadable shard.
        """
        self.path = Path(path)
        self.manifest: Manifest = read_manifest(self.path)
        rows = [shard.rows for shard in self.manifest.shards]
        self._offsets = np.concatenate([[0], np.cumsum(rows, dtype=np.int64)]).astype(np.int64)
        self._arrays = [self._open_features(shard) for shard in self.manifest.shards]
        for shard in self.manifest.shards:
            self._check_index(shard)
        self._index: pd.DataFrame | None = None
        self._ids: np.ndarray | None = None
        self._coords: np.ndarray | None = None

    # -- manifest fields -------------------------------------------------------------------

    @property
    def backbone(self) -> str:
        """Name of the frozen backbone that produced the embeddings."""
        return self.manifest.backbone

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return self.manifest.dim

    @property
    def dtype(self) -> str:
        """On-disk feature dtype (always ``"float16"`` in format version 1)."""
        return self.manifest.dtype

    @property
    def preprocessing(self) -> dict:
        """The free-form preprocessing description recorded by the writer."""
        return self.manifest.preprocessing

    @property
    def views(self) -> int:
        """Embeddings per image: 10 in a TenCrop store (``extract --tta tencrop``), else 1.

        A row then holds the views side by side, ``dim = views * backbone dim``.
        """
        return int(self.preprocessing.get("views", 1))

    def check_one_view(self, what: str) -> None:
        """Refuse a store of test-time views where one embedding per image is needed.

        Raises:
            GeovarioError: "<what>: <store> holds 10 test-time views per image ...".
        """
        if self.views != 1:
            raise GeovarioError(f"{what}: {self.path} holds {self.views} test-time views per "
                                f"image (extract --tta "
                                f"{self.preprocessing.get('test_time_augmentation')}), for "
                                "evaluate and predict only; extract this store without --tta")

    @property
    def label_columns(self) -> tuple[str, ...]:
        """Names of the optional string label columns of the index."""
        return self.manifest.label_columns

    def __len__(self) -> int:
        return int(self._offsets[-1])

    def __repr__(self) -> str:
        return (f"FeatureStore({str(self.path)!r}, backbone={self.backbone!r}, dim={self.dim}, "
                f"rows={len(self)}, shards={len(self.manifest.shards)})")

    # -- index -----------------------------------------------------------------------------

    @property
    def index(self) -> pd.DataFrame:
        """One row per image: ``id`` (str), ``latitude``, ``longitude`` (float64), labels (str)."""
        if self._index is None:
            columns = [*INDEX_COLUMNS, *self.label_columns]
            self._index = self._read_index(columns)
        return self._index

    @property
    def ids(self) -> np.ndarray:
        """Image ids as a read-only 1-D array of str, in row order (reads only the id column)."""
        if self._ids is None:
            source = self._index if self._index is not None else self._read_index(["id"])
            self._ids = source["id"].to_numpy(dtype=object, copy=True)
            self._ids.flags.writeable = False
        return self._ids

    @property
    def coords(self) -> np.ndarray:
        """``(N, 2)`` float64 array of (latitude, longitude) in degrees, in row order.

        Built once and read-only, so ``store.coords[rows]`` in a training loop costs no copy
        of the whole array.
        """
        if self._coords is None:
            coords = self.index[["latitude", "longitude"]].to_numpy(dtype=np.float64, copy=True)
            coords.flags.writeable = False
            self._coords = coords
        return self._coords

    def _read_index(self, columns: list[str]) -> pd.DataFrame:
        tables = [pq.read_table(self.path / s.index, columns=columns) for s in self.manifest.shards]
        if not tables:
            schema = pa.schema([(c, pa.float64() if c in ("latitude", "longitude") else pa.string())
                                for c in columns])
            return schema.empty_table().to_pandas()
        return pa.concat_tables(tables).to_pandas()

    # -- features --------------------------------------------------------------------------

    def features(self, rows, dtype=np.float32) -> np.ndarray:
        """Gather the embeddings of arbitrary global ``rows`` (any order, repeats allowed).

        Rows are sorted once so each shard is read in increasing file order, then scattered
        back to the order asked for.

        Raises:
            GeovarioError: "<store>: rows must be a 1-D integer array ..." or "<store>: row R is
                out of range for a store of N rows"; a dtype other than float16/float32.
        """
        dtype = self._check_dtype(dtype)
        rows = np.asarray(rows)
        if rows.size == 0:
            return np.empty((0, self.dim), dtype=dtype)
        if rows.ndim != 1 or rows.dtype.kind not in "iu":
            raise GeovarioError(f"{self.path}: rows must be a 1-D integer array, got "
                                f"shape {rows.shape} dtype {rows.dtype}")
        rows = rows.astype(np.int64, copy=False)
        bad = (rows < 0) | (rows >= len(self))
        if bad.any():
            raise GeovarioError(f"{self.path}: row {int(rows[bad][0])} is out of range for a "
                                f"store of {len(self)} rows")
        order = np.argsort(rows, kind="stable")
        sorted_rows = rows[order]
        cuts = np.searchsorted(sorted_rows, self._offsets, side="left")
        out = np.empty((rows.size, self.dim), dtype=dtype)
        for shard, array in enumerate(self._arrays):
            start, stop = cuts[shard], cuts[shard + 1]
            if start < stop:
                out[order[start:stop]] = array[sorted_rows[start:stop] - self._offsets[shard]]
        return out

    def iter_batches(self, batch_size: int, dtype=np.float32) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(start, features)`` over all rows in order; batches span shard boundaries.

        Every batch has ``batch_size`` rows except possibly the last; rows
        ``start:start + len(features)`` of ``index`` describe it.

        Raises:
            GeovarioError: "<store>: batch_size must be a positive integer ..."; a bad dtype.
        """
        dtype = self._check_dtype(dtype)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise GeovarioError(f"{self.path}: batch_size must be a positive integer, got "
                                f"{batch_size!r}")
        for start in range(0, len(self), batch_size):
            yield start, self._slice(start, min(start + batch_size, len(self)), dtype)

    def load_features(self, dtype=np.float32) -> np.ndarray:
        """All embeddings in memory as one ``(N, dim)`` array (float16 halves the memory)."""
        return self._slice(0, len(self), self._check_dtype(dtype))

    def _slice(self, start: int, stop: int, dtype: np.dtype) -> np.ndarray:
        """Contiguous rows ``start:stop``, copied out of the shards they span."""
        out = np.empty((stop - start, self.dim), dtype=dtype)
        first = int(np.searchsorted(self._offsets, start, side="right")) - 1
        for shard in range(max(first, 0), len(self._arrays)):
            lo, hi = self._offsets[shard], self._offsets[shard + 1]
            if lo >= stop:
                break
            a, b = max(start, lo), min(stop, hi)
            out[a - start:b - start] = self._arrays[shard][a - lo:b - lo]
        return out

    def _check_dtype(self, dtype) -> np.dtype:
        try:
            resolved = np.dtype(dtype)
        except TypeError:
            resolved = None
        if resolved not in _DTYPES:
            raise GeovarioError(f"{self.path}: dtype must be float16 or float32, got {dtype!r}")
        return resolved

    # -- checks at open --------------------------------------------------------------------

    def _open_features(self, shard: Shard) -> np.ndarray:
        file = self.path / shard.features
        if not file.is_file():
            raise GeovarioError(f"{file}: shard file listed in {MANIFEST_NAME} is missing")
        try:
            array = np.load(file, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as error:
            raise input_error(file, "unreadable shard", cause=error) from None
        expected = (shard.rows, self.dim)
        if array.shape != expected or array.dtype != np.float16:
            raise GeovarioError(f"{file}: shard has shape {array.shape} {array.dtype}, expected "
                                f"{expected} float16 (per {MANIFEST_NAME})")
        return array

    def _check_index(self, shard: Shard) -> None:
        file = self.path / shard.index
        if not file.is_file():
            raise GeovarioError(f"{file}: shard file listed in {MANIFEST_NAME} is missing")
        try:
            meta = pq.read_metadata(file)
            names = meta.schema.to_arrow_schema().names
        except (OSError, pa.ArrowException) as error:
            raise input_error(file, "unreadable index shard", cause=error) from None
        expected = [*INDEX_COLUMNS, *self.label_columns]
        if meta.num_rows != shard.rows or names != expected:
            raise GeovarioError(f"{file}: index shard has {meta.num_rows} rows and columns "
                                f"{names}, expected {shard.rows} rows and columns {expected} "
                                f"(per {MANIFEST_NAME})")


def open_store(path: str | Path) -> FeatureStore:
    """Open the feature store in directory ``path`` for reading (see ``FeatureStore``)."""
    return FeatureStore(path)
