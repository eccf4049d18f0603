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
