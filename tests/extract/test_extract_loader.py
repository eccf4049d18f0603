import io
import os
import sys
import threading
import time

import numpy as np
import pytest
import torch
from PIL import Image
from tests.helpers.extract_testdata import FakeTransform
from tests.helpers.osv5m_testdata import CORRUPT, MISSING, image_of, make_osv5m

from geovario.data.osv5m import load_osv5m
from geovario.extract.loader import BATCHES_AHEAD, DECODER_NICENESS, DecodedBatches


@pytest.fixture
def osv(tmp_path):
    frame = make_osv5m(tmp_path / "osv")
    return frame, load_osv5m(tmp_path / "osv", "train")


def batches_of(n_rows: int, size: int) -> list[np.ndarray]:
    rows = np.arange(n_rows)
    return [rows[k : k + size] for k in range(0, n_rows, size)]


@pytest.mark.parametrize("threads", [0, 1, 3])
def test_batches_in_order_with_pixels_of_each_image_and_failures_kept(osv, threads):
    frame, samples = osv
    transform = FakeTransform()
    with DecodedBatches(
        samples.reader, transform.pixels, batches_of(len(frame), 5), threads=threads
    ) as loaded:
        got = list(loaded)
    assert len(got) == 3
    ids = frame["id"].tolist()
    rows = np.concatenate([batch.rows for batch in got])
    failed = {ids[row]: reason for batch in got for row, reason, _ in batch.failures}
    assert failed == {CORRUPT: "corrupt image", MISSING: "missing image"}
    assert rows.tolist() == [r for r in range(len(ids)) if ids[r] not in failed]
    images = torch.cat([batch.images for batch in got])
    oracle = torch.stack(
        [transform.pixels(Image.open(io.BytesIO(image_of(frame, ids[r])))) for r in rows]
    )
    assert images.dtype == torch.uint8
    torch.testing.assert_close(images, oracle, rtol=0, atol=0)


class Recording:
    """A transform that records where it ran, and slows each image down."""

    def __init__(self, delay_s: float = 0.0):
        self.delay_s = delay_s
        self.calls: list[tuple[int, str, int]] = []
        self.transform = FakeTransform()

    def __call__(self, image):
        time.sleep(self.delay_s)
        self.calls.append(
            (os.getpid(), threading.current_thread().name, os.getpriority(os.PRIO_PROCESS, 0))
        )
        return self.transform.pixels(image)


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread niceness is Linux's")
def test_threads_of_this_process_decode_at_lower_priority(osv):
    frame, samples = osv
    record = Recording()
    base = os.getpriority(os.PRIO_PROCESS, 0)
    with DecodedBatches(samples.reader, record, batches_of(len(frame), 4), threads=2) as loaded:
        list(loaded)
    assert len(record.calls) == 10  # the readable images
    assert {pid for pid, _, _ in record.calls} == {os.getpid()}
    assert all(name.startswith("geovario-decode") for _, name, _ in record.calls)
    assert {nice for _, _, nice in record.calls} == {min(base + DECODER_NICENESS, 19)}
    assert os.getpriority(os.PRIO_PROCESS, 0) == base  # the caller's thread keeps its own


def test_close_drops_the_queued_images_and_the_threads_end(osv):
    frame, samples = osv
    record = Recording(delay_s=0.5)
    # 3 batches of 4 rows, 10 readable images: the first batch is taken, the other two
    # are queued (BATCHES_AHEAD), and each thread is on one image when close is called
    assert BATCHES_AHEAD == 2
    loaded = DecodedBatches(samples.reader, record, batches_of(len(frame), 4), threads=2)
    first = next(loaded)
    loaded.close()
    deadline = time.monotonic() + 30
    while any(t.name.startswith("geovario-decode") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "decoding threads still running 30 s after close"
        time.sleep(0.01)
    assert len(first.rows) == 3
    assert len(record.calls) < 10  # left unfinished: the queued images were dropped
