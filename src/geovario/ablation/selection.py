"""The selection set: a validation part held out of the training store, in whole regions.

Settings chosen on the test set flatter whatever was chosen; `ablate --select-fraction F`
instead trains every variant on the rest of the training store and scores it on places
held out of it, so a sweep selects there and the test set (better: a fresh one) confirms.
The held-out places mirror how the test set is held out of training:

- ``region_km = 0`` (default; the interleaved split, OSV-5M): validation places are a
  random sample of the training places, each its own region;
- ``region_km = D`` (the blocked split): discs of diameter D around random places, each
  giving at most ceil(F·N / regions) places, as the Blue Marble build draws its test
  regions.

Training places within ``buffer_km`` of any validation place are dropped (counted in the
report), so no validation place has a training neighbour closer than the test set would.
The two parts are written as stores ``OUT/selection/{train,validation}``; the validation
store's ``cluster`` column holds each place's region, the bootstrap's unit.
"""

import dataclasses
import math
import shutil
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from geovario.errors import GeovarioError
from geovario.fileio import read_json, write_json_atomic
from geovario.geo import unit_vectors
from geovario.geo.distance import km_to_chord
from geovario.store import StoreWriter, open_store

SPLIT_SEED = 0  # the same split for every variant and training seed
RECORD = "selection.json"
CLUSTER = "cluster"
_COPY_ROWS = 65_536


@dataclasses.dataclass(frozen=True)
class SelectionSplit:
    """How the validation part is held out (module docstring)."""

    fraction: float
    region_km: float = 0.0
    regions: int = 32
    buffer_km: float = 25.0

    def __post_init__(self):
        for ok, text in ((0 < self.fraction < 1, f"--select-fraction must be in (0, 1), got "
                          f"{self.fraction}"),
                         (self.region_km >= 0, f"--select-region-km must be >= 0, got "
                          f"{self.region_km}"),
                         (self.regions >= 1, f"--select-regions must be >= 1, got "
                          f"{self.regions}"),
                         (self.buffer_km >= 0, f"--select-buffer-km must be >= 0, got "
                          f"{self.buffer_km}")):
            if not ok:
                raise GeovarioError(f"ablate: {text}")


def split_rows(coords: np.ndarray, split: SelectionSplit,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training rows, validation rows and each validation row's region, all sorted by row.

    Raises:
        GeovarioError: "ablate: ... leaves N training places" when too few remain.
    """
    n = len(coords)
    n_val = round(split.fraction * n)
    if n_val < 2 or n_val >= n:
        raise GeovarioError(f"ablate: --select-fraction {split.fraction:g} of {n} places "
                            f"holds out {n_val}; need at least 2 and fewer than all")
    units = unit_vectors(coords)
    if split.region_km == 0:
        val = rng.choice(n, size=n_val, replace=False)
        region = np.arange(n_val)
    else:
        tree, taken = cKDTree(units), np.zeros(n, dtype=bool)
        quota, picks, labels = math.ceil(n_val / split.regions), [], []
        for centre in rng.permutation(n):
            if len(labels) >= n_val:
                break
            if taken[centre]:
                continue
            members = np.asarray(tree.query_ball_point(units[centre],
                                                       km_to_chord(split.region_km / 2)),
                                 dtype=np.intp)
            members = members[~taken[members]]
            pick = rng.choice(members, size=min(quota, len(members), n_val - len(labels)),
                              replace=False)
            taken[pick] = True
            picks.append(pick)
            labels += [len(picks) - 1] * len(pick)
        val, region = np.concatenate(picks), np.asarray(labels)
    keep = np.ones(n, dtype=bool)
    keep[val] = False
    if split.buffer_km > 0:
        radius = km_to_chord(split.buffer_km)
        nearest, _ = cKDTree(units[val]).query(units, k=1, distance_upper_bound=radius + 1e-9)
        keep &= nearest > radius
    train = np.flatnonzero(keep)
    if len(train) < 2:
        raise GeovarioError(f"ablate: the selection split leaves {len(train)} training places "
                            f"within --select-buffer-km {split.buffer_km:g}; lower it")
    order = np.argsort(val)
    return train, val[order], region[order]


def _copy(store, rows: np.ndarray, out: Path, clusters: np.ndarray | None) -> None:
    """Write ``rows`` of ``store`` as a new store (features bit for bit), with regions."""
    columns = [c for c in store.label_columns if c != CLUSTER]
    index = store.index
    with StoreWriter(out, backbone=store.backbone, dim=store.dim,
                     preprocessing=store.preprocessing,
                     label_columns=columns + ([CLUSTER] if clusters is not None else [])
                     ) as writer:
        for start in range(0, len(rows), _COPY_ROWS):
            part = rows[start:start + _COPY_ROWS]
            table = index.iloc[part]
            labels = {c: table[c].tolist() for c in columns}
            if clusters is not None:
                labels[CLUSTER] = [str(c) for c in clusters[start:start + _COPY_ROWS]]
            writer.append(table["id"].tolist(), table[["latitude", "longitude"]].to_numpy(),
                          store.features(part, dtype=np.float16), labels=labels or None)


def selection_stores(train_store: Path, out: Path, split: SelectionSplit) -> tuple[Path, Path]:
    """Write (or reuse) ``out/train`` and ``out/validation``; return their paths.

    Raises:
        GeovarioError: "ablate: <out> holds a selection split of ... but ... was asked"
            when a previous split differs; the errors of :func:`split_rows`.
    """
    out = Path(out)
    source = open_store(train_store)
    wanted = {"train_store": str(Path(train_store).resolve()), "rows": len(source),
              **dataclasses.asdict(split)}
    if (out / RECORD).exists():
        record = read_json(out / RECORD)
        for key, value in wanted.items():
            if record.get(key) != value:
                raise GeovarioError(f"ablate: {out} holds a selection split with {key}="
                                    f"{record.get(key)} but {key}={value} was asked; use "
                                    "another ablation folder")
        return out / "train", out / "validation"
    for part in ("train", "validation"):  # an interrupted split: start it again
        shutil.rmtree(out / part, ignore_errors=True)
    train, val, region = split_rows(source.coords, split, np.random.default_rng(SPLIT_SEED))
    _copy(source, train, out / "train", None)
    _copy(source, val, out / "validation", region)
    write_json_atomic(out / RECORD, {**wanted, "training_places": len(train),
                                     "validation_places": len(val),
                                     "validation_regions": int(region.max()) + 1,
                                     "dropped_within_buffer": len(source) - len(train) - len(val)})
    return out / "train", out / "validation"


def selection_facts(out: Path) -> dict:
    """What :func:`selection_stores` recorded (counts included)."""
    return read_json(Path(out) / RECORD)
