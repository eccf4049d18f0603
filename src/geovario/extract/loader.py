"""Read, decode and preprocess images in DataLoader workers, never letting one kill the run.

``__getitem__`` catches every failure of its sample and returns it as a marker (row,
reason, detail) instead of raising: an exception in a worker would abort the whole
DataLoader. The collate function stacks the good samples and passes the markers on,
so the main process logs them and embeds the rest.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from geovario.data.images import CorruptImageError, decode_image
from geovario.data.samples import REASON_CORRUPT, REASON_MISSING, ImageReader, MissingImageError

Item = tuple[int, torch.Tensor | None, str, str]


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
            return row, None, REASON_CORRUPT, f"preprocess failed: {type(error).__name__}: {error}"


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


def make_loader(reader: ImageReader, preprocess: Callable[[Image.Image], torch.Tensor],
                batches: list[np.ndarray], *, workers: int, pin_memory: bool) -> DataLoader:
    """A DataLoader yielding one ``Batch`` per entry of ``batches``, in that order."""
    return DataLoader(DecodeDataset(reader, preprocess),
                      batch_sampler=[b.tolist() for b in batches],
                      num_workers=workers, collate_fn=collate, pin_memory=pin_memory,
                      prefetch_factor=4 if workers else None)
