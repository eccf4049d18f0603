"""Read, decode and preprocess images in DataLoader workers, never letting one kill the run.

``__getitem__`` catches every failure of its sample and returns it as a marker (row,
reason, detail) instead of raising: an exception in a worker would abort the whole
DataLoader. The collate function stacks the good samples and passes the markers on,
so the main process logs them and embeds the rest.
"""

import os
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from geovario.data.images import CorruptImageError, decode_image
from geovario.data.samples import REASON_CORRUPT, REASON_MISSING, ImageReader, MissingImageError

Item = tuple[int, torch.Tensor | None, str, str]
PREPROCESS_FAILED = "preprocess failed"
# On a CPU-only machine the model's threads and the decoding workers share the cores; a
# descheduled thread stalls all of the model's threads at their next sync, so workers
# run at a lower priority.
WORKER_NICENESS = 10


class DecodeDataset(Dataset):
    """Row -> (row, preprocessed image or None, skip reason, detail)."""

    def __init__(self, reader: ImageReader, preprocess: Callable[[Image.Image], torch.Tensor]):
        self.reader = reader
        self.preprocess = preprocess

    def __getitem__(self, row: int) -> Item:
        try:
            image = decode_image(self.reader.read(row))
        except MissingImageError as error:
            return row, None, REASON_MISSING, str(error)
        except CorruptImageError as error:
            return row, None, REASON_CORRUPT, str(error)
        try:
            return row, self.preprocess(image), "", ""
        except Exception as error:  # a bad sample must not end a multi-hour run; it is logged
            detail = f"{PREPROCESS_FAILED}: {type(error).__name__}: {error}"
            return row, None, REASON_CORRUPT, detail


@dataclass
class Batch:
    """The good rows with their stacked images, and the rows that failed, with why."""

    rows: np.ndarray
    images: torch.Tensor | None
    failures: list[tuple[int, str, str]]

    def pin_memory(self) -> "Batch":
        """Page-lock the images (the DataLoader calls this when ``pin_memory=True``)."""
        if self.images is not None:
            self.images = self.images.pin_memory()
        return self


def collate(items: Sequence[Item]) -> Batch:
    """Stack the decoded samples; keep the failures as (row, reason, detail)."""
    good = [(row, image) for row, image, _, _ in items if image is not None]
    failures = [(row, reason, detail) for row, image, reason, detail in items if image is None]
    images = torch.stack([image for _, image in good]) if good else None
    return Batch(np.array([row for row, _ in good], dtype=np.int64), images, failures)


class _Batches:
    """The batches as lists of ints, made one at a time (a list of millions of ints is big)."""

    def __init__(self, batches: list[np.ndarray]) -> None:
        self.batches = batches

    def __iter__(self):
        return (batch.tolist() for batch in self.batches)

    def __len__(self) -> int:
        return len(self.batches)


def _init_worker(worker_id: int) -> None:
    """Lower the worker's priority and leave Ctrl-C to the main process.

    The model's threads come first on a busy CPU; workers decode in the gaps. Ctrl-C
    reaches the whole process group: the main process stops the run and shuts the
    workers down, so a worker ignoring it cannot print its own traceback meanwhile.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(WORKER_NICENESS)


def make_loader(reader: ImageReader, preprocess: Callable[[Image.Image], torch.Tensor],
                batches: list[np.ndarray], *, workers: int, pin_memory: bool) -> DataLoader:
    """A DataLoader yielding one ``Batch`` per entry of ``batches``, in that order."""
    return DataLoader(DecodeDataset(reader, preprocess),
                      batch_sampler=_Batches(batches),
                      num_workers=workers, collate_fn=collate, pin_memory=pin_memory,
                      worker_init_fn=_init_worker if workers else None)
