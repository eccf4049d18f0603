"""Datasets by name, as ``geovario extract --dataset NAME`` reads them.

Each loader turns a folder into a :class:`~geovario.data.samples.SampleTable`. A new
dataset registers a loader with ``@DATASETS.register("name")``; its module loads only
when it is used (the OSV-5M reader imports huggingface_hub).
"""

from collections.abc import Callable
from pathlib import Path

from geovario.data.samples import SampleTable
from geovario.errors import GeovarioError
from geovario.registry import Registry

Loader = Callable[..., SampleTable]
#: Loaders called as ``loader(root, split=, csv=, labels=, present_only=, limit=)``.
DATASETS: Registry[Loader] = Registry("dataset")


def list_datasets() -> list[str]:
    """Names :func:`load_dataset` accepts."""
    return DATASETS.names()


def load_dataset(name: str, root: str | Path, *, split: str = "train", csv: Path | None = None,
                 labels: list[str] | None = None, present_only: bool = False,
                 limit: int | None = None) -> SampleTable:
    """Load dataset ``name`` from ``root``; only the ``csv`` dataset takes a metadata CSV.

    Raises:
        GeovarioError: "unknown dataset ..." naming the choices; "dataset csv needs ...";
            "--csv is only for --dataset csv ..."; the dataset loader's errors.
    """
    loader = DATASETS[name]
    if csv is not None and name != "csv":
        raise GeovarioError(f"--csv is only for --dataset csv ({name} reads ROOT/{split}.csv)")
    return loader(Path(root), split=split, csv=csv, labels=labels, present_only=present_only,
                  limit=limit)


@DATASETS.register("osv5m")
def _osv5m(root: Path, *, split, csv, labels, present_only, limit) -> SampleTable:
    """OSV-5M as downloaded: ROOT/<split>.csv and zip shards under ROOT/images/<split>/."""
    from geovario.data.osv5m import load_osv5m

    return load_osv5m(root, split, labels=labels, present_only=present_only, limit=limit)


@DATASETS.register("csv")
def _csv_folder(root: Path, *, split, csv, labels, present_only, limit) -> SampleTable:
    """Any image folder described by a metadata CSV (path or id, latitude, longitude)."""
    if csv is None:
        raise GeovarioError("dataset csv needs --csv FILE (the metadata CSV)")
    from geovario.data.csvfolder import load_csv_folder

    return load_csv_folder(root, csv, labels=labels, limit=limit)


@DATASETS.register("bluemarble")
def _bluemarble(root: Path, *, split, csv, labels, present_only, limit) -> SampleTable:
    """A Blue Marble benchmark written by ``geovario bluemarble build`` (OSV-5M's layout)."""
    from geovario.data.osv5m import load_osv5m

    return load_osv5m(root, split, labels=labels, present_only=present_only, limit=limit,
                      hint=f"write it with: geovario bluemarble build --out {root}")
