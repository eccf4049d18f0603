"""Merge stores made by separate jobs (other machines, other slices of a dataset) into one.

``geovario store merge`` concatenates the parts in the order given, so the merged row
order is deterministic. (``geovario extract`` under torchrun merges its own rank parts
itself, in ``extract/run.py``.)
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from geovario.errors import GeovarioError
from geovario.store.reader import FeatureStore, open_store
from geovario.store.writer import DEFAULT_SHARD_SIZE, StoreWriter

_COMPARED = ("backbone", "dim", "preprocessing", "label_columns")


def check_compatible(stores: Sequence[FeatureStore]) -> None:
    """Check that the stores can be concatenated: same backbone, dim, preprocessing, labels.

    Raises:
        GeovarioError: "<part>: backbone 'X' differs from <first part>: 'Y'" (likewise dim,
            preprocessing, label columns).
    """
    first = stores[0]
    for store in stores[1:]:
        for field in _COMPARED:
            have, want = getattr(store, field), getattr(first, field)
            if have != want:
                name = field.replace("_", " ")
                raise GeovarioError(f"{store.path}: {name} {have!r} differs from "
                                    f"{first.path}: {want!r}")


def _check_disjoint(stores: Sequence[FeatureStore]) -> None:
    """Refuse ids that occur in two parts (or twice in one), naming an example and both parts."""
    all_ids = np.concatenate([store.ids for store in stores])
    part = np.repeat(np.arange(len(stores)), [len(store) for store in stores])
    duplicated = pd.Index(all_ids).duplicated(keep=False)
    if duplicated.any():
        rows = np.flatnonzero(duplicated)
        example = all_ids[rows[0]]
        where = sorted({str(stores[p].path) for p in part[rows][all_ids[rows] == example]})
        count = len(set(all_ids[rows]))
        raise GeovarioError(f"merge_stores: {count} id(s) appear in more than one part, e.g. "
                            f"{example!r} in {' and '.join(where)}")


def merge_stores(parts: Sequence[str | Path], out: str | Path, *,
                 shard_size: int = DEFAULT_SHARD_SIZE) -> FeatureStore:
    """Concatenate compatible stores, in the order of ``parts``, into a new store ``out``.

    Rows are re-sharded to ``shard_size``; features are copied bit for bit (float16).
    ``out`` must not exist, be empty, or be a store with no rows (an interrupted merge).

    Raises:
        GeovarioError: "merge_stores: no parts given"; "merge_stores: <out> is also one of
            the parts"; incompatible parts (see ``check_compatible``); "merge_stores: N
            id(s) appear in more than one part ..."; "<out>: already holds a store with N
            rows ..."; errors opening a part.
    """
    if not parts:
        raise GeovarioError("merge_stores: no parts given")
    out = Path(out)
    stores = [open_store(part) for part in parts]
    for store in stores:
        if out.exists() and store.path.resolve() == out.resolve():
            raise GeovarioError(f"merge_stores: {out} is also one of the parts")
    check_compatible(stores)
    _check_disjoint(stores)
    first = stores[0]
    with StoreWriter(out, backbone=first.backbone, dim=first.dim,
                     preprocessing=first.preprocessing, label_columns=first.label_columns,
                     shard_size=shard_size) as writer:
        if writer.manifest.count:
            raise GeovarioError(f"{out}: already holds a store with {writer.manifest.count} "
                                "rows; merge writes a new store (remove it first)")
        for store in stores:
            index = store.index
            for start, features in store.iter_batches(shard_size, dtype=np.float16):
                rows = index.iloc[start:start + len(features)]
                writer.append(rows["id"].tolist(),
                              rows[["latitude", "longitude"]].to_numpy(),
                              features,
                              labels={c: rows[c].tolist() for c in store.label_columns} or None)
    return open_store(out)
