"""The extraction loop: dataset rows -> frozen backbone -> feature store, chunk by chunk."""

import shutil
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from geovario.data.samples import REASON_CORRUPT, SKIP_REASONS, SampleTable
from geovario.distributed import DistributedEnv, barrier
from geovario.errors import GeovarioError
from geovario.extract.loader import PREPROCESS_FAILED, DecodedBatches
from geovario.extract.plan import DEFAULT_CHUNK_SIZE, Chunk, plan_chunks, rank_chunks
from geovario.extract.skiplog import SKIP_LOG_NAME, SkipLog
from geovario.progress import progress_bar
from geovario.store import StoreWriter, open_store

PARTS_DIR = "parts"
# This many preprocess failures before any success mean a broken backbone, not bad images.
FAIL_FAST_AFTER = 16


@dataclass(frozen=True)
class ExtractReport:
    """What a run did: rows it embedded, rows the store holds, skipped samples by reason."""

    store: Path
    embedded: int
    rows: int
    skipped: dict[str, int]

    @property
    def skip_log(self) -> Path:
        """The file listing every skipped sample."""
        return self.store / SKIP_LOG_NAME

    def summary(self) -> str:
        """One line, e.g. "extract: 9 embedded, 3 skipped (1 corrupt image, ...); see <log>"."""
        text = f"extract: {self.embedded:,} embedded"
        if self.rows != self.embedded:
            text += f" (the store now holds {self.rows:,})"
        total = sum(self.skipped.values())
        text += f", {total:,} skipped"
        if total:
            order = [*SKIP_REASONS, *sorted(set(self.skipped) - set(SKIP_REASONS))]
            reasons = ", ".join(f"{self.skipped[r]:,} {r}" for r in order if self.skipped.get(r))
            text += f" ({reasons}); see {self.skip_log}"
        return text


class _Extraction:
    """One store (the whole output, or one rank's part) filled from a plan of chunks."""

    def __init__(self, samples: SampleTable, backbone, path: Path, chunk_size: int) -> None:
        self.samples = samples
        self.backbone = backbone
        self.path = path
        self._preprocess_failures = 0
        self.settings = dict(backbone=backbone.name, dim=backbone.dim,
                             preprocessing=backbone.preprocessing,
                             label_columns=tuple(samples.labels), shard_size=chunk_size)

    def writer(self) -> StoreWriter:
        return StoreWriter(self.path, **self.settings)

    def written(self) -> set[str]:
        """Ids already committed; opening the writer also checks the store's settings."""
        with self.writer() as writer:
            return set(writer.written_ids)

    def append(self, writer: StoreWriter, rows: np.ndarray, features: np.ndarray) -> None:
        """Append ``rows`` of the dataset with their features and commit them as one shard."""
        samples = self.samples
        writer.append(samples.ids[rows], samples.coords[rows], features,
                      labels={c: v[rows] for c, v in samples.labels.items()} or None)
        writer.flush()

    def run(self, plan: list[Chunk], *, workers: int, progress: bool) -> int:
        """Embed every chunk of ``plan`` and commit it as one shard; returns rows added."""
        samples, skips = self.samples, SkipLog(self.path / SKIP_LOG_NAME)
        batches = (batch for chunk in plan for batch in chunk.batches)
        # Threads decode to uint8 pixels (a quarter of float32's bytes to stack and pin);
        # normalisation runs in ``embed_pixels``, on the model's device.
        pin = torch.device(self.backbone.device).type == "cuda"
        loaded = DecodedBatches(samples.reader, self.backbone.transform.pixels, batches,
                                threads=workers, pin_memory=pin)
        added = 0
        with loaded, self.writer() as writer, progress_bar(total=sum(c.rows for c in plan),
                                                   unit="img", desc="extract",
                                                   enabled=progress, smoothing=0.05) as bar:
            for chunk in plan:
                for row, reason, detail in chunk.skipped:
                    skips.add(samples.ids[row], reason, detail)
                rows, features = [], []
                for _ in chunk.batches:
                    batch = next(loaded)
                    for row, reason, detail in batch.failures:
                        skips.add(samples.ids[row], reason, detail)
                    self._fail_fast(batch.failures, succeeded=added or bool(rows))
                    if batch.images is not None:
                        embedded = self.backbone.embed_pixels(batch.images).numpy()
                        with np.errstate(over="ignore"):
                            finite = np.isfinite(embedded.astype(np.float16)).all(axis=1)
                        for row in batch.rows[~finite]:
                            skips.add(samples.ids[row], REASON_CORRUPT,
                                      "embedding is NaN or infinite in float16")
                        rows.append(batch.rows[finite])
                        features.append(embedded[finite])
                    bar.update(len(batch.rows) + len(batch.failures))
                if rows:
                    self.append(writer, np.concatenate(rows), np.concatenate(features))
                    added += sum(len(r) for r in rows)
                skips.commit()  # after the shard: a kill in between re-finds these on resume
                bar.update(len(chunk.skipped))
                bar.set_postfix(skipped=len(skips), refresh=False)
        return added

    def _fail_fast(self, failures: list[tuple[int, str, str]], succeeded: bool) -> None:
        """Stop when preprocessing fails on every image so far: the backbone is broken."""
        if succeeded:
            return
        self._preprocess_failures += sum(d.startswith(PREPROCESS_FAILED) for _, _, d in failures)
        if self._preprocess_failures >= FAIL_FAST_AFTER:
            detail = next(d for _, _, d in failures if d.startswith(PREPROCESS_FAILED))
            raise GeovarioError(f"extract: {self.backbone.name}: preprocessing failed on the "
                                f"first {self._preprocess_failures} decoded images and worked on "
                                f"none ({detail}); a backbone problem, not bad images")

    def merge(self, parts: list[Path]) -> int:
        """Append the parts' shards (one per chunk) and skip logs in order; resumable."""
        skips, added = SkipLog(self.path / SKIP_LOG_NAME), 0
        with self.writer() as writer:
            for part in parts:
                store, start = open_store(part), 0
                ids = store.ids
                for shard in store.manifest.shards:
                    rows = np.arange(start, start + shard.rows)
                    start += shard.rows
                    rows = rows[[i not in writer.written_ids for i in ids[rows]]]
                    if rows.size:
                        index = store.index.iloc[rows]
                        writer.append(index["id"].tolist(),
                                      index[["latitude", "longitude"]].to_numpy(),
                                      store.features(rows, np.float16),
                                      labels={c: index[c].tolist() for c in store.label_columns}
                                      or None)
                        writer.flush()
                        added += rows.size
                for sample_id, (reason, detail) in SkipLog(part / SKIP_LOG_NAME).entries.items():
                    skips.add(sample_id, reason, detail)
                skips.commit()
        return added


def _positive(name: str, value: int, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise GeovarioError(f"extract: {name} must be an integer >= {minimum}, got {value!r}")


def extract_features(samples: SampleTable, backbone, out: str | Path, *, batch_size: int = 64,
                     workers: int = 2, chunk_size: int = DEFAULT_CHUNK_SIZE,
                     env: DistributedEnv | None = None, progress: bool = True) -> ExtractReport:
    """Embed every good row of ``samples`` with ``backbone`` into the feature store ``out``.

    Rows are processed in dataset order, ``chunk_size`` rows per committed shard (see
    ``geovario.extract.plan``); rows already in the store are skipped, so rerunning after
    any interruption finishes the job and gives the store an uninterrupted run would.
    Under a process group (``env`` from ``init_distributed``) each rank fills
    ``out/parts/rank-R-of-W`` with its contiguous share of chunks, then rank 0 appends the
    parts in rank order and deletes them: the result equals a one-process run.

    Args:
        samples: the dataset (``load_osv5m``, ``load_csv_folder``).
        backbone: a ``geovario.backbones.Backbone``.
        out: the store directory (new, or one to resume).
        batch_size: images per ``embed`` call.
        workers: threads decoding images beside the model (0: the calling thread
            decodes each batch when it is needed).
        chunk_size: dataset rows per shard; resume with the same value (and batch size)
            for bit-identical features.
        env: this process's place in a distributed job; None means one process.
        progress: show a progress bar (on rank 0).

    Raises:
        GeovarioError: "extract: <name> must be an integer >= N ..."; store errors, e.g. a
            store made with another backbone or label columns, or a directory that is not a
            store; backbone errors.
    """
    for name, value, minimum in (("batch_size", batch_size, 1), ("workers", workers, 0),
                                 ("chunk_size", chunk_size, 1)):
        _positive(name, value, minimum)
    env = env or DistributedEnv()
    out = Path(out)
    final = _Extraction(samples, backbone, out, chunk_size)
    chunks = rank_chunks(len(samples), chunk_size, env.rank, env.world_size)
    options = dict(workers=workers, progress=progress and env.is_main)
    if not env.is_distributed:
        plan = plan_chunks(samples, final.written(), chunks, chunk_size=chunk_size,
                           batch_size=batch_size)
        added = final.run(plan, **options)
    else:
        parts = [out / PARTS_DIR / f"rank-{r}-of-{env.world_size}" for r in range(env.world_size)]
        done: Set[str] = final.written() if env.is_main else set()
        barrier()  # the output store exists (and its settings were checked) before any part
        if not env.is_main:
            done = set(open_store(out).ids)
        part = _Extraction(samples, backbone, parts[env.rank], chunk_size)
        plan = plan_chunks(samples, done | part.written(), chunks, chunk_size=chunk_size,
                           batch_size=batch_size)
        part.run(plan, **options)
        barrier()
        added = 0
        if env.is_main:
            added = final.merge(parts)
            shutil.rmtree(out / PARTS_DIR)
        barrier()
    return ExtractReport(store=out, embedded=added, rows=len(open_store(out)),
                         skipped=dict(SkipLog(out / SKIP_LOG_NAME).counts()))
