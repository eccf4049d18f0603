"""Atomic writes: readers see either the old file or the complete new one, never a part.

Files a reader must never see half-written (store shards and manifests, checkpoints,
variogram fits, predictions, reports) go through :func:`atomic_write`: a temporary
sibling named ``.tmp-<name>.<random>``, flushed and fsynced, then renamed over the
target. Logs that only grow (``metrics.jsonl``, ``skipped.csv``) are appended instead.
"""

import importlib.resources
import json
import math
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from geovario.errors import GeovarioError, input_error

TEMP_PREFIX = ".tmp-"


def fsync_dir(directory: Path) -> None:
    """Flush the directory entry table so completed renames survive a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on directories
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` through a temporary sibling, fsync it, then ``os.replace`` it in place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f"{TEMP_PREFIX}{path.name}.{uuid.uuid4().hex[:12]}")
    try:
        with open(temp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Atomically write bytes."""
    atomic_write(path, lambda handle: handle.write(data))


def save_tensors_atomic(tensors: dict, path: Path, metadata: dict[str, str]) -> None:
    """Atomically write a safetensors file of CPU tensors with string metadata.

    ``save_file`` writes the tensors' own buffers to the temporary file; ``save`` would
    first build the whole file in memory (another 200 MB for the 100K gallery's embeddings).
    The fsync of the temporary file's handle covers what ``save_file`` wrote through its own.
    """
    from safetensors.torch import save_file  # torch is heavy; only writers of tensors need it

    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    atomic_write(Path(path), lambda handle: save_file(tensors, handle.name, metadata=metadata))


def read_json(path: Path) -> dict:
    """A JSON file's content, or a one-line error naming the file when it is damaged."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise input_error(path, "not valid JSON", cause=error) from None


def finite_or_none(value):
    """NaN and infinities become None (JSON null); numpy floats become floats."""
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def write_json_atomic(path: Path, data: dict) -> None:
    """Atomically write indented JSON (NaN refused: it is not JSON)."""
    write_bytes_atomic(path, (json.dumps(data, indent=2, allow_nan=False) + "\n").encode())


def packaged_file(package: str, name: str, *, what: str, source: str, install: str):
    """A data file shipped inside an installed package (a path-like Traversable).

    Raises:
        GeovarioError: "<source>: <what> <package>/<name> not found; install it with
            `pip install <install>`" when the package or its file is missing.
    """
    try:
        path = importlib.resources.files(package) / name
    except ModuleNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise GeovarioError(f"{source}: {what} {package.replace('.', '/')}/{name} not found; "
                            f"install it with `pip install {install}`")
    return path
