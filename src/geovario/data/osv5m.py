"""OSV-5M: download the split's CSV and zip shards, then read images from the zips in place.

Layout on the Hugging Face Hub (dataset ``osv5m/osv5m``) and on disk under ``root``::

    root/train.csv, root/test.csv
    root/images/<split>/00.zip, 01.zip, ...   members <folder>/<id>.jpg

Nothing is extracted: the reader opens the zips it needs, lazily, once per process,
and reads members by name (from several decoding threads at once: zipfile serialises
the reads of one open file). Members are matched by base name (``<id>.jpg``) whatever
folder they sit in. ``geovario bluemarble build`` writes the same layout, so the
same reader serves it.
"""

import os
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import huggingface_hub
import numpy as np
import pandas as pd
from huggingface_hub.errors import HfHubHTTPError

from geovario.csvtable import read_geo_csv
from geovario.data.images import CorruptImageError
from geovario.data.samples import MissingImageError, SampleTable, table_from_frame
from geovario.data.splits import SPLITS
from geovario.errors import GeovarioError, input_error
from geovario.hub.refs import HUB_ERRORS

REPO_ID = "osv5m/osv5m"
_MEMBER = re.compile(r"(?:^|/)([^/]+)\.jpg$", re.IGNORECASE)
_SHARD = re.compile(r"^images/(train|test)/(\d+)\.zip$")
_FETCH_ERRORS = (*HUB_ERRORS, HfHubHTTPError)


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise GeovarioError(f"osv5m: unknown split {split!r} (choose from {', '.join(SPLITS)})")


class ZipShardReader:
    """Reads row images straight out of zip shards; picklable and thread-safe.

    ``shard[i]`` is the index into ``paths`` of row ``i``'s zip (-1: in no shard) and
    ``member[i]`` its member name (bytes, a compact array). Each process opens a shard
    once; two threads opening the same shard at the same moment may both open it, and
    the ZipFile left out of ``_open`` is closed when collected, which is harmless.
    """

    def __init__(self, paths: Sequence[str], shard: np.ndarray, member: np.ndarray) -> None:
        self.paths = [str(p) for p in paths]
        self.shard = shard
        self.member = member
        self._open: dict[int, zipfile.ZipFile] = {}
        self._pid = os.getpid()

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_open": {}, "_pid": None}

    def available(self, rows: np.ndarray) -> np.ndarray:
        """False for rows whose ``<id>.jpg`` is in none of the shards."""
        return self.shard[rows] >= 0

    def _zip(self, number: int) -> zipfile.ZipFile:
        if self._pid != os.getpid():  # a forked child: never share the parent's file handles
            self._open, self._pid = {}, os.getpid()
        if number not in self._open:
            self._open[number] = zipfile.ZipFile(self.paths[number])
        return self._open[number]

    def read(self, row: int) -> bytes:
        """The bytes of row ``row``'s member.

        Raises:
            MissingImageError: the image is in no shard, or its shard file has gone.
            CorruptImageError: the member fails its CRC or decompression.
        """
        number = int(self.shard[row])
        if number < 0:
            raise MissingImageError("not in any zip shard")
        name = self.member[row].decode()
        try:
            return self._zip(number).read(name)
        except FileNotFoundError as error:
            raise MissingImageError(f"{self.paths[number]}: {error.strerror}") from None
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
            raise CorruptImageError(f"{self.paths[number]}:{name}: {error}") from None


def zip_shards(root: str | Path, split: str) -> list[Path]:
    """The split's zip shards under ``root/images/<split>``, in name order."""
    return sorted((Path(root) / "images" / split).glob("*.zip"))


def index_members(paths: Sequence[Path]) -> pd.DataFrame:
    """Columns ``id``, ``shard``, ``member`` for every ``*.jpg`` member (first shard wins).

    Raises:
        GeovarioError: "<zip>: not a readable zip file ..." for a damaged shard.
    """
    frames = []
    for number, path in enumerate(paths):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError) as error:
            raise input_error(path, "not a readable zip file", cause=error,
                              fix="delete it and download it again") from None
        matches = [(m.group(1), name) for name in names if (m := _MEMBER.search(name))]
        frames.append(pd.DataFrame(matches, columns=["id", "member"]).assign(shard=number))
    if not frames:
        return pd.DataFrame({"id": [], "member": [], "shard": []})
    members = pd.concat(frames, ignore_index=True)
    return members.drop_duplicates("id", keep="first")


def load_osv5m(root: str | Path, split: str = "train", *, labels: Sequence[str] | None = None,
               present_only: bool = False, limit: int | None = None,
               hint: str | None = None) -> SampleTable:
    """The split's rows in CSV order, with images read from ``root/images/<split>/*.zip``.

    Args:
        root: folder in OSV-5M layout (see the module docstring).
        split: "train" or "test".
        labels: label columns to copy; None takes the ``unique_*`` columns present.
        present_only: keep only rows whose image is in a local shard (after downloading
            a few shards); otherwise every other row is skipped as a missing image.
        limit: keep the first ``limit`` rows (after ``present_only``).
        hint: how to get the folder, for the errors (default: the OSV-5M download command).

    Raises:
        GeovarioError: "osv5m: unknown split ..."; "osv5m: <root>: no such directory ...",
            "osv5m: <csv> not found ..." or "osv5m: no zip shards in <dir> ...", each naming
            the download command; errors from ``read_geo_csv`` and ``index_members``.
    """
    _check_split(split)
    root = Path(root)
    hint = hint or f"download with: geovario download osv5m --root {root} --split {split}"
    if not root.is_dir():
        raise GeovarioError(f"osv5m: {root}: no such directory ({hint})")
    csv = root / f"{split}.csv"
    if not csv.is_file():
        raise GeovarioError(f"osv5m: {csv} not found ({hint})")
    paths = zip_shards(root, split)
    if not paths:
        raise GeovarioError(f"osv5m: no zip shards in {root / 'images' / split} ({hint})")
    frame = read_geo_csv(csv, keys=("id",), labels=labels, bad_coords="nan",
                         limit=None if present_only else limit)
    members = index_members(paths).set_index("id")
    shard = members["shard"].reindex(frame["id"]).fillna(-1).to_numpy(np.int16)
    member = np.char.encode(members["member"].reindex(frame["id"]).fillna("").to_numpy(str),
                            "utf-8")
    if present_only:
        keep = np.flatnonzero(shard >= 0)[:limit]
        frame, shard, member = frame.iloc[keep].reset_index(drop=True), shard[keep], member[keep]
    reader = ZipShardReader([str(p) for p in paths], shard, member)
    return table_from_frame(frame, source=str(csv), reader=reader)


@dataclass
class DownloadReport:
    """Which files ``download_osv5m`` fetched and which were already complete."""

    fetched: list[Path] = field(default_factory=list)
    present: list[Path] = field(default_factory=list)


def shard_names(split: str, *, shards: Sequence[int] | None = None,
                num_shards: int | None = None) -> list[str]:
    """Repository paths of the wanted zip shards: given numbers, the first N, or all.

    Raises:
        GeovarioError: "osv5m download: cannot list the files of <repo> ..." when all
            shards are wanted and the Hub cannot be reached.
    """
    if shards is not None:
        return [f"images/{split}/{k:02d}.zip" for k in shards]
    if num_shards is not None:
        return [f"images/{split}/{k:02d}.zip" for k in range(num_shards)]
    try:
        files = huggingface_hub.list_repo_files(REPO_ID, repo_type="dataset")
    except _FETCH_ERRORS as error:
        raise input_error("osv5m download", f"cannot list the files of Hugging Face dataset "
                          f"{REPO_ID}", cause=error,
                          fix="offline? choose shards with --shards or --num-shards") from None
    return sorted(f for f in files if (m := _SHARD.match(f)) and m.group(1) == split)


def _complete(path: Path) -> bool:
    """Whether ``path`` is a finished file.

    The Hub client renames a file into place only when it is complete; a zip must also end
    in a readable central directory, which a copy cut short lacks.
    """
    return path.is_file() and (path.suffix != ".zip" or zipfile.is_zipfile(path))


def download_osv5m(root: str | Path, split: str = "train", *, shards: Sequence[int] | None = None,
                   num_shards: int | None = None) -> DownloadReport:
    """Fetch ``<split>.csv`` and zip shards of ``osv5m/osv5m`` into ``root``; resumable.

    Files already present and complete are skipped without contacting the Hub, so a rerun
    after an interruption fetches only what is missing, and works offline when nothing is.

    Args:
        root: local folder; files land at their repository paths below it.
        split: "train" or "test".
        shards: shard numbers to fetch (``[0, 1]`` -> ``images/<split>/00.zip, 01.zip``).
        num_shards: fetch the first N shards; with neither, every shard of the split.

    Raises:
        GeovarioError: "osv5m: unknown split ..."; "osv5m download: cannot fetch <file> from
            Hugging Face dataset osv5m/osv5m ..." when a file cannot be downloaded (offline,
            missing in the repository); listing errors from ``shard_names``.
    """
    _check_split(split)
    root = Path(root)
    report = DownloadReport()
    for name in [f"{split}.csv", *shard_names(split, shards=shards, num_shards=num_shards)]:
        target = root / name
        if _complete(target):
            report.present.append(target)
            continue
        try:
            fetched = huggingface_hub.hf_hub_download(REPO_ID, name, repo_type="dataset",
                                                      local_dir=root,
                                                      force_download=target.exists())
        except _FETCH_ERRORS as error:
            raise input_error("osv5m download", f"cannot fetch {name} from Hugging Face "
                              f"dataset {REPO_ID} into {root}", cause=error) from None
        report.fetched.append(Path(fetched))
    return report
