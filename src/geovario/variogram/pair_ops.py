"""Array operations of the variogram's pair pass, in numpy and in torch.

The pass (``geovario.variogram.empirical``) is written once against these few
operations. numpy serves exact passes on the CPU up to ``NUMPY_MAX_PAIRS`` pairs, so
``geovario variogram`` on a few thousand points never imports torch; torch serves the
GPU, sampled pairs and large CPU passes, where its threads pay for its start-up. Both
give the same bins, counts and sums up to rounding.
"""

import numpy as np

from geovario.geo.distance import EARTH_RADIUS_KM

#: An exact pass on the CPU up to this many pairs (N ≈ 14,000 points) runs in numpy:
#: importing torch (1.5–3 s on two cores) costs more than its threads save there
#: (benchmarks/RESULTS.md, "Variogram engine").
NUMPY_MAX_PAIRS = 10**8


def choose_backend(device, n_points: int, pairs: int | None) -> str:
    """``numpy`` for an exact pass on the CPU up to ``NUMPY_MAX_PAIRS`` pairs, else ``torch``."""
    if str(device) == "cpu" and pairs is None and n_points * (n_points - 1) // 2 <= NUMPY_MAX_PAIRS:
        return "numpy"
    return "torch"


def exact_chords(u_a: np.ndarray, u_b: np.ndarray) -> np.ndarray:
    """Chords ‖u_a − u_b‖ between two blocks of unit vectors, (A, 3) × (B, 3) → (A, B).

    From the coordinate differences, not a dot product, so float64 keeps sub-metre
    precision at every distance (what ``torch.cdist`` computes without its matrix product).
    """
    total = np.zeros((len(u_a), len(u_b)))
    for c in range(u_a.shape[1]):
        diff = u_a[:, c, None] - u_b[None, :, c]
        total += diff * diff
    return np.sqrt(total, out=total)


def chord_to_km_np(chord, dtype=np.float64):
    """Numpy twin of :func:`geovario.geo.distance.chord_to_km`: 2R·atan2(c/2, √(1 − c²/4))."""
    half = np.asarray(chord) * 0.5
    cosine = np.sqrt(np.maximum(1.0 - half * half, 0.0))
    return np.arctan2(half.astype(dtype), cosine.astype(dtype)) * (2 * EARTH_RADIUS_KM)


class NumpyOps:
    """The pair pass's array operations in numpy: CPU, float64 bins, no torch to import."""

    chords = staticmethod(exact_chords)

    @staticmethod
    def tensor(array, dtype=None):
        """An array of the backend (dtype a numpy dtype name)."""
        return np.asarray(array, dtype=dtype)

    @staticmethod
    def bin_index(chord, inner):
        """Bin of each chord: edges[i] <= c < edges[i + 1] is bin i; beyond the last, K."""
        return np.searchsorted(inner, chord.reshape(-1), side="right")

    @staticmethod
    def bincount(index, weights, length):
        """Sum of ``weights`` (or 1) per bin, float64."""
        return np.bincount(index, weights=weights, minlength=length).astype(np.float64)

    @staticmethod
    def upper(n):
        """Mask of the strict upper triangle of an n × n tile."""
        return np.triu(np.ones((n, n), dtype=bool), k=1)

    km = staticmethod(chord_to_km_np)
    double = staticmethod(lambda x: np.asarray(x, dtype=np.float64))
    numpy = staticmethod(np.asarray)


class TorchOps:
    """The same operations in torch, on any device (the GPU, and large CPU passes)."""

    def __init__(self, device):
        import torch

        self.torch, self.device = torch, torch.device(device)

    def tensor(self, array, dtype=None):  # noqa: D102
        out = self.torch.as_tensor(np.ascontiguousarray(array), device=self.device)
        return out if dtype is None else out.to(getattr(self.torch, dtype))

    def chords(self, ua, ub):  # noqa: D102
        return self.torch.cdist(ua, ub, compute_mode="donot_use_mm_for_euclid_dist")

    def bin_index(self, chord, inner):  # noqa: D102
        return self.torch.bucketize(chord, inner, right=True).reshape(-1)

    def bincount(self, index, weights, length):  # noqa: D102
        return self.torch.bincount(index, weights=weights, minlength=length).double()

    def upper(self, n):  # noqa: D102
        return self.torch.ones((n, n), dtype=self.torch.bool, device=self.device).triu_(1)

    def km(self, chord, dtype):  # noqa: D102
        from geovario.geo.distance import chord_to_km

        return chord_to_km(chord, getattr(self.torch, np.dtype(dtype).name))

    double = staticmethod(lambda x: x.double())
    numpy = staticmethod(lambda x: x.cpu().numpy())
