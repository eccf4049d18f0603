"""Which test images a bootstrap must draw together: the test set's clusters.

A Blue Marble blocked test set is ~32 regions of ~30 patches that overlap on the ground;
its build writes each test place's region to the ``cluster`` column of ``test.csv``
(``geovario extract --labels ...,cluster`` copies it into the store). A test set whose
places are drawn independently (the interleaved split, where each place is its own
region, or a random sample of photos) needs no column: each image is a unit.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geovario.csvtable import missing_label_mask, read_text_csv
from geovario.errors import GeovarioError
from geovario.store import open_store

#: Columns ``--cluster-column auto`` looks for, in this order: the Blue Marble build's
#: regions (and the selection set's), then a dataset's own cell column.
AUTO_COLUMNS = ("cluster", "cell")


@dataclass(frozen=True)
class TestUnits:
    """Cluster label by image id (None: every image its own unit) and where it came from."""

    labels: dict[str, object] | None
    column: str | None
    source: str

    def describe(self, ids: np.ndarray) -> dict:
        """The unit as ``ablation.json["paired"]["unit"]`` states it, for these test ids."""
        from geovario.ablation.paired import unit_codes

        n = len(ids)
        if self.labels is None:
            return {"resampled": "image", "column": None, "source": self.source,
                    "units": n, "images": n}
        codes = unit_codes([self.labels.get(i) for i in ids], n)
        alone = sum(self.labels.get(i) is None for i in ids)
        return {"resampled": "cluster", "column": self.column, "source": self.source,
                "units": int(codes.max()) + 1, "images": n, "images_without_cluster": alone}


def _lookup(ids, values) -> dict[str, object]:
    """Map each id to its label, None where the label is missing (empty, NaN, None)."""
    missing = missing_label_mask(values)
    return {str(i): (None if gone else str(v))
            for i, v, gone in zip(ids, values, missing, strict=True)}


def resolve_units(test_store: Path, column: str = "auto",
                  clusters_csv: Path | None = None) -> TestUnits:
    """The test units ``--cluster-column`` (and ``--clusters``) ask for.

    Args:
        test_store: the store the runs are evaluated on; its label columns are searched.
        column: ``auto`` (the first of :data:`AUTO_COLUMNS` present, else images),
            ``image`` (every image its own unit) or a column name.
        clusters_csv: read the column from this CSV (``id`` + the column, e.g. a Blue
            Marble build's ``test.csv``) instead of the store.

    Raises:
        GeovarioError: "ablate: ... has no column ..." naming the file and what it has.
    """
    if column == "image":
        return TestUnits(None, None, "every test image is its own unit (--cluster-column image)")
    if clusters_csv is not None:
        table = read_text_csv(Path(clusters_csv))
        have, where = [c for c in table.columns if c != "id"], str(clusters_csv)
        if "id" not in table.columns:
            raise GeovarioError(f"{clusters_csv}: no 'id' column to match the test images")
    else:
        store = open_store(test_store)
        table, have, where = store.index, list(store.label_columns), str(store.path)
    if column == "auto":
        found = [c for c in AUTO_COLUMNS if c in have]
        if not found:
            return TestUnits(None, None, f"every test image is its own unit ({where} has no "
                             f"{' or '.join(AUTO_COLUMNS)} column)")
        column = found[0]
    elif column not in have:
        hint = ("extract the test set with --labels ...," + column + " or pass --clusters CSV"
                if clusters_csv is None else "choose another --cluster-column")
        raise GeovarioError(f"ablate: {where} has no column {column!r} (it has "
                            f"{', '.join(have) or 'none'}); {hint}")
    return TestUnits(_lookup(table["id"], table[column].tolist()), column, where)
