"""The feature store: frozen-backbone embeddings, extracted once, read by every training run.

On-disk layout (format ``geovario-feature-store``, version 1). A store is a directory::

    <store>/
        manifest.json          the commit point: the store is exactly the shards listed here
        shard-000000.npy       float16 features, shape (rows, dim), C order, NumPy .npy v1+
        shard-000000.parquet   the index of the same rows, in the same order
        shard-000001.npy
        shard-000001.parquet
        ...

``manifest.json`` is one JSON object with these keys:

- ``format``: ``"geovario-feature-store"``;
- ``format_version``: ``1`` (readers refuse any other version);
- ``geovario_version``: version of geovario that last wrote the manifest;
- ``backbone``: name of the frozen backbone (str);
- ``dim``: embedding dimension (int);
- ``dtype``: ``"float16"``, the dtype of every ``.npy`` shard;
- ``count``: total rows, equal to the sum of the shards' ``rows``;
- ``preprocessing``: free JSON object describing how images were prepared;
- ``label_columns``: names of the optional label columns (list of str), e.g. OSV-5M's
  ``unique_country``, ``unique_region``, ``unique_sub-region``, ``unique_city``;
- ``shards``: list, in row order, of ``{"features": "shard-NNNNNN.npy",
  "index": "shard-NNNNNN.parquet", "rows": int}``.

Each ``.parquet`` index has exactly the columns ``id`` (string, unique across the
store), ``latitude`` and ``longitude`` (float64, degrees, WGS84) followed by the label
columns in manifest order (string, null when missing). Global row ``r`` is row
``r - offset`` of the shard whose cumulative row range contains it.

Writers put each file in place by writing ``.tmp-<name>.<random>`` in the store
directory, fsyncing it and renaming it with ``os.replace``; the manifest is replaced
last, the same way. Files named ``.tmp-*`` and ``shard-*`` files not listed in the
manifest are leftovers of an interrupted writer: readers ignore them, the next writer
deletes them. Any other file in the directory is left alone. Shard numbers increase
but need not be contiguous; only the manifest's order counts.
"""

from geovario.store.manifest import FORMAT_NAME, FORMAT_VERSION, MANIFEST_NAME, Manifest, Shard
from geovario.store.merge import merge_stores
from geovario.store.reader import FeatureStore, open_store
from geovario.store.writer import DEFAULT_SHARD_SIZE, StoreWriter

__all__ = [
    "DEFAULT_SHARD_SIZE",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "FeatureStore",
    "Manifest",
    "Shard",
    "StoreWriter",
    "merge_stores",
    "open_store",
]
