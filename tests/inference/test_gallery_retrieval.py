import numpy as np
import pytest
import torch

from geovario.inference.gallery import top_k, weighted_mean_on_sphere


def test_chunked_top_k_equals_full_softmax():
    g = torch.Generator().manual_seed(0)
    images = torch.nn.functional.normalize(torch.randn(10, 8, generator=g), dim=1)
    gallery = torch.nn.functional.normalize(torch.randn(53, 8, generator=g), dim=1)
    best = top_k(images, gallery, scale=20.0, k=4, image_chunk=3, gallery_chunk=7)
    probs = torch.softmax(20.0 * images @ gallery.T, dim=1)
    expected = probs.topk(4, dim=1)
    np.testing.assert_array_equal(best.indices, expected.indices.numpy())
    np.testing.assert_allclose(best.probs, expected.values.numpy(), rtol=1e-5)


@pytest.mark.parametrize("chunks", [{}, {"image_chunk": 7, "gallery_chunk": 5000},
                                    {"image_chunk": 64, "gallery_chunk": 40001}])
def test_a_gallery_over_several_chunks_gives_the_full_softmax_top_k(chunks):
    # 40,001 places: more than two default gallery chunks (16,384) and a partial last one,
    # so the running log-sum-exp and the merge of each chunk's best run at the defaults.
    g = torch.Generator().manual_seed(1)
    images = torch.nn.functional.normalize(torch.randn(30, 16, generator=g), dim=1)
    gallery = torch.nn.functional.normalize(torch.randn(40001, 16, generator=g), dim=1)
    best = top_k(images, gallery, scale=30.0, k=6, **chunks)
    expected = torch.softmax(30.0 * images.double() @ gallery.double().T, dim=1).topk(6, dim=1)
    np.testing.assert_array_equal(best.indices, expected.indices.numpy())
    np.testing.assert_allclose(best.probs, expected.values.numpy(), rtol=1e-4)


def test_no_allocation_holds_all_logits_of_a_large_gallery():
    # 1,024 images x 50,000 places: all logits at once would be 195 MiB of float32; at the
    # default chunks no single allocation exceeds one 1024 x 16384 block (64 MiB).
    from torch.profiler import ProfilerActivity, profile

    images = torch.nn.functional.normalize(torch.randn(1024, 4), dim=1)
    gallery = torch.nn.functional.normalize(torch.randn(50000, 4), dim=1)
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        top_k(images, gallery, scale=30.0, k=5)
    largest = max(event.cpu_memory_usage for event in prof.events())
    assert 0 < largest <= 1024 * 16384 * 4


def test_k_larger_than_the_gallery_returns_everything():
    images = torch.nn.functional.normalize(torch.randn(2, 4), dim=1)
    gallery = torch.nn.functional.normalize(torch.randn(3, 4), dim=1)
    best = top_k(images, gallery, 10.0, k=5)
    assert best.indices.shape == (2, 3)
    np.testing.assert_allclose(best.probs.sum(1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    ("points", "weights", "expected"),
    [
        ([[0, -10], [0, 10]], [1, 1], [0, 0]),
        ([[0, 170], [0, -170]], [1, 1], [0, 180]),  # across the date line, not at 0°
        ([[10, 20], [50, 60]], [1, 0], [10, 20]),
        ([[89, 0], [89, 180]], [1, 1], [90, 0]),  # over the pole
    ],
)
def test_weighted_mean_on_the_sphere(points, weights, expected):
    mean = weighted_mean_on_sphere(np.array([points], float), np.array([weights], float))[0]
    assert mean[0] == pytest.approx(expected[0], abs=1e-9)
    if abs(expected[0]) < 90:
        assert abs((mean[1] - expected[1] + 180) % 360 - 180) < 1e-9
