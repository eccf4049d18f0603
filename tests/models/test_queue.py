import pytest
import torch

from geovario.models.queue import SampleQueue


@pytest.mark.parametrize("batch", [3, 5, 7, 10, 13])
def test_queue_keeps_the_newest_samples_in_slot_order(batch):
    queue = SampleQueue(10, feature_dim=1)
    history = []
    for start in range(0, 60, batch):
        values = torch.arange(start, start + batch, dtype=torch.float32)
        queue.enqueue(torch.stack([values, -values], 1), values[:, None])
        history.extend(values.tolist())
        coords, features = queue.valid()
        assert len(coords) == min(len(history), 10)
        # A ring buffer: the slots hold exactly the newest min(seen, 10) samples…
        assert sorted(coords[:, 0].tolist()) == sorted(history[-10:])
        torch.testing.assert_close(coords[:, 1], -coords[:, 0])
        torch.testing.assert_close(features[:, 0], coords[:, 0])
        # …and the next write goes to the oldest slot.
        assert int(queue.pointer) == len(history) % 10
    assert queue.is_full


def test_queue_is_not_full_before_the_first_wrap():
    queue = SampleQueue(8)
    queue.enqueue(torch.zeros(5, 2))
    assert not queue.is_full and len(queue.valid()[0]) == 5
    queue.enqueue(torch.ones(3, 2))
    assert queue.is_full


def test_zero_size_queue_is_empty():
    queue = SampleQueue(0)
    queue.enqueue(torch.zeros(4, 2))
    assert len(queue.valid()[0]) == 0
