"""The manifest: what a store holds, and the one file whose replacement commits a shard.

A store is exactly the shards its ``manifest.json`` lists. Writers put shard files
in place first and rewrite the manifest last, so a reader never sees a shard that
was not completely written, whatever happened to the writer.
"""

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from geovario import __version__
from geovario.errors import GeovarioError
from geovario.fileio import atomic_write, read_json

MANIFEST_NAME = "manifest.json"
FORMAT_NAME = "geovario-feature-store"
FORMAT_VERSION = 1
FEATURE_DTYPE = "float16"

_REQUIRED = ("format_version", "backbone", "dim", "dtype", "count", "preprocessing",
             "label_columns", "shards")


@dataclass(frozen=True)
class Shard:
    """One committed shard: a features file and an index file with the same row count."""

    features: str
    index: str
    rows: int


@dataclass(frozen=True)
class Manifest:
    """The parsed ``manifest.json``; ``count`` is always the sum of the shards' rows."""

    backbone: str
    dim: int
    preprocessing: dict[str, Any] = field(default_factory=dict)
    label_columns: tuple[str, ...] = ()
    shards: tuple[Shard, ...] = ()
    dtype: str = FEATURE_DTYPE
    format: str = FORMAT_NAME
    format_version: int = FORMAT_VERSION
    geovario_version: str = __version__

    @property
    def count(self) -> int:
        """Rows in the store: the sum over committed shards."""
        return sum(shard.rows for shard in self.shards)

    def with_shards(self, shards: tuple[Shard, ...]) -> "Manifest":
        """A copy listing ``shards``, stamped with the geovario version that writes it."""
        return replace(self, shards=tuple(shards), geovario_version=__version__)

    def to_json(self) -> dict[str, Any]:
        """The manifest as the JSON object written to disk (keys in a fixed order)."""
        return {
            "format": self.format,
            "format_version": self.format_version,
            "geovario_version": self.geovario_version,
            "backbone": self.backbone,
            "dim": self.dim,
            "dtype": self.dtype,
            "count": self.count,
            "preprocessing": self.preprocessing,
            "label_columns": list(self.label_columns),
            "shards": [asdict(shard) for shard in self.shards],
        }


def normalize_preprocessing(preprocessing: Any, *, source: str) -> dict[str, Any]:
    """Return ``preprocessing`` as it reads back from JSON, so equal settings compare equal.

    Raises:
        GeovarioError: "<source>: preprocessing must be a JSON object ..." when it is not a
            dict of JSON-serializable values.
    """
    if preprocessing is None:
        return {}
    if not isinstance(preprocessing, dict):
        raise GeovarioError(f"{source}: preprocessing must be a JSON object (dict), got "
                            f"{type(preprocessing).__name__}")
    try:
        return json.loads(json.dumps(preprocessing, sort_keys=True))
    except (TypeError, ValueError) as error:
        raise GeovarioError(f"{source}: preprocessing must be a JSON object of "
                            f"JSON-serializable values: {error}") from None


def _parse(data: Any, path: Path) -> Manifest:
    """Validate the decoded JSON and build a Manifest; every error names ``path``."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise GeovarioError(f"{path}: not a geovario feature store manifest (format "
                            f"{found!r}, expected {FORMAT_NAME!r})")
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise GeovarioError(f"{path}: manifest is missing key(s) {', '.join(missing)}")
    if data["format_version"] != FORMAT_VERSION:
        raise GeovarioError(f"{path}: format version {data['format_version']!r} is not "
                            f"supported (this geovario {__version__} reads version "
                            f"{FORMAT_VERSION})")
    if data["dtype"] != FEATURE_DTYPE:
        raise GeovarioError(f"{path}: dtype {data['dtype']!r} is not supported "
                            f"(expected {FEATURE_DTYPE!r})")
    try:
        shards = tuple(Shard(features=str(s["features"]), index=str(s["index"]),
                             rows=int(s["rows"])) for s in data["shards"])
        manifest = Manifest(
            backbone=str(data["backbone"]),
            dim=int(data["dim"]),
            preprocessing=normalize_preprocessing(data["preprocessing"], source=str(path)),
            label_columns=tuple(str(c) for c in data["label_columns"]),
            shards=shards,
            geovario_version=str(data.get("geovario_version", "unknown")),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise GeovarioError(f"{path}: malformed manifest field: {error!r}") from None
    if manifest.count != data["count"]:
        raise GeovarioError(f"{path}: count {data['count']!r} does not match the sum of shard "
                            f"rows {manifest.count}")
    return manifest


def read_manifest(directory: Path) -> Manifest:
    """Read and validate ``<directory>/manifest.json``.

    Raises:
        GeovarioError: "<dir>: no such directory", "<dir>: not a geovario feature store (no
            manifest.json)", "<manifest>: not valid JSON ...", "<manifest>: format version X is
            not supported (... reads version 1)", or a malformed or missing manifest field.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise GeovarioError(f"{directory}: no such directory")
    path = directory / MANIFEST_NAME
    if not path.is_file():
        raise GeovarioError(f"{directory}: not a geovario feature store (no {MANIFEST_NAME})")
    return _parse(read_json(path), path)


def write_manifest(directory: Path, manifest: Manifest) -> None:
    """Atomically replace ``<directory>/manifest.json``: this is the commit point."""
    text = json.dumps(manifest.to_json(), indent=2) + "\n"
    atomic_write(Path(directory) / MANIFEST_NAME, lambda fh: fh.write(text.encode("utf-8")))
