"""Read, decode and preprocess images in threads of this process, never letting one kill the run.

Why threads and not DataLoader worker processes: reading a zip member, decoding a JPEG
(Pillow) and the uint8 resize (torch) spend their time outside the GIL, so a few threads
decode side by side with the model, and a batch is stacked straight into this process's
memory. Worker processes had to hand every batch over in a fresh shared-memory segment
passed by file descriptor: mapping and first-touch page faults on both sides, and
multiprocessing's ``resource_sharer`` thread in each worker, which printed a traceback
whenever a Ctrl-C cut one of its hand-overs short (``benchmarks/RESULTS.md``, Extraction).

:func:`decode` catches every failure of its sample and returns it as a marker (row,
reason, detail) instead of raising, so one bad image never ends a run; :func:`collate`
stacks the good samples and passes the markers on, so the caller logs them and embeds
the rest.
"""

import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from geovario.data.images import CorruptImageError, decode_image
from geovario.data.samples import REASON_CORRUPT, REASON_MISSING, ImageReader, MissingImageError

Item = tuple[int, torch.Tensor | None, str, str]
Preprocess = Callable[[Image.Image], torch.Tensor]
PREPROCESS_FAILED = "preprocess failed"
# On a CPU-only machine the model's threads and the decoding threads share the cores; a
# descheduled model thread stalls all of them at their next sync, so decoding threads run
# at a lower priority (Linux gives each thread its own niceness).
DECODER_NICENESS = 10
#: Batches submitted for decoding beyond the one being embedded.
BATCHES_AHEAD = 2


def decode(reader: ImageReader, preprocess: Preprocess, row: int) -> Item:
    """Row -> (row, preprocessed image or None, skip reason, detail); never raises."""
    try:
        image = decode_image(reader.read(row))
    except MissingImageError as error:
        return row, None, REASON_MISSING, str(error)
    except CorruptImageError as error:
        return row, None, REASON_CORRUPT, str(error)
    try:
        return row, preprocess(image), "", ""
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
        """Page-lock the images, for a faster copy to a GPU."""
        if self.images is not None:
            self.images = self.images.pin_memory()
        return self


def collate(items: Sequence[Item]) -> Batch:
    """Stack the decoded samples; keep the failures as (row, reason, detail)."""
    good = [(row, image) for row, image, _, _ in items if image is not None]
    failures = [(row, reason, detail) for row, image, reason, detail in items if image is None]
    images = torch.stack([image for _, image in good]) if good else None
    return Batch(np.array([row for row, _ in good], dtype=np.int64), images, failures)


def _lower_priority() -> None:
    """Add ``DECODER_NICENESS`` to the calling thread's niceness (only that thread's).

    Relative, as ``nice`` is: under ``nice -n 5 geovario extract`` the decoding threads
    run at 15, never above the model (raising a priority also needs privileges).
    """
    if sys.platform == "linux":  # elsewhere the id below would name a process, not a thread
        thread = threading.get_native_id()
        niceness = os.getpriority(os.PRIO_PROCESS, thread) + DECODER_NICENESS
        os.setpriority(os.PRIO_PROCESS, thread, min(niceness, 19))


class DecodedBatches(Iterator[Batch]):
    """One ``Batch`` per entry of ``batches``, in order, decoded ahead by ``threads`` threads.

    ``threads=0`` decodes each batch in the calling thread when it is asked for. Each
    image is one task, so the threads share a batch evenly; while the caller embeds one
    batch, the next ``BATCHES_AHEAD`` are being decoded. Leave it with ``close`` (or a ``with``
    block): images not yet started are dropped, and nothing waits for more than the
    image each thread is on.
    """

    def __init__(
        self,
        reader: ImageReader,
        preprocess: Preprocess,
        batches: Iterable[np.ndarray],
        *,
        threads: int,
        pin_memory: bool = False,
    ):
        self._decode = lambda row: decode(reader, preprocess, row)
        self._batches = iter(batches)
        self._pin = pin_memory
        self._queued: deque[list[Future]] = deque()
        self._pool = (
            ThreadPoolExecutor(
                threads, thread_name_prefix="geovario-decode", initializer=_lower_priority
            )
            if threads
            else None
        )
        self._queue_ahead()

    def _queue_ahead(self) -> None:
        while self._pool is not None and len(self._queued) < BATCHES_AHEAD:
            rows = next(self._batches, None)
            if rows is None:
                return
            self._queued.append([self._pool.submit(self._decode, row) for row in rows.tolist()])

    def __next__(self) -> Batch:
        if self._pool is None:
            items = [self._decode(row) for row in next(self._batches).tolist()]
        elif self._queued:
            futures = self._queued.popleft()
            self._queue_ahead()
            items = [future.result() for future in futures]
        else:
            raise StopIteration
        batch = collate(items)
        return batch.pin_memory() if self._pin else batch

    def close(self) -> None:
        """Drop the images not started yet; the threads end after the one they are on."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._queued.clear()

    def __enter__(self) -> "DecodedBatches":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
