"""Array operations of the variogram's pair pass, on numpy arrays or torch tensors.

The pass (``geovario.variogram.empirical``) is written once against these few
operations, each working in the namespace of its input (:mod:`geovario.arrays`); the
backend is chosen once, when the points and features are first put into arrays
(:func:`backend_array`). numpy serves exact passes on the CPU up to ``NUMPY_MAX_PAIRS``
pairs, so ``geovario variogram`` on a few thousand points never imports torch; torch
serves the GPU, sampled pairs and large CPU passes, where its threads pay for its
start-up. Both give the same bins, counts and sums up to rounding.
"""

import numpy as np

from geovario.arrays import array_namespace, astype

#: An exact pass on the CPU up to this many pairs (N ≈ 14,000 points) runs in numpy:
#: importing torch (1.5–3 s on two cores) costs more than its threads save there
#: (benchmarks/RESULTS.md, "Variogram engine").
NUMPY_MAX_PAIRS = 10**8


def choose_backend(device, n_points: int, pairs: int | None) -> str:
    """``numpy`` for an exact pass on the CPU up to ``NUMPY_MAX_PAIRS`` pairs, else ``torch``."""
    if str(device) == "cpu" and pairs is None and n_points * (n_points - 1) // 2 <= NUMPY_MAX_PAIRS:
        return "numpy"
    return "torch"


def backend_array(array, backend: str, device, dtype: str):
    """``array`` as a numpy array (``backend="numpy"``) or a torch tensor on ``device``."""
    if backend == "numpy":
        return np.asarray(array, dtype=dtype)
    import torch

    return astype(torch.as_tensor(np.ascontiguousarray(array), device=torch.device(device)),
                  dtype)


def array_like(array, like, dtype: str):
    """``array`` (numpy) in the namespace and on the device of ``like``."""
    if array_namespace(like) is np:
        return np.asarray(array, dtype=dtype)
    return backend_array(array, "torch", like.device, dtype)


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


def chords(u_a, u_b):
    """Chords between two blocks (or batches of blocks) of unit vectors, exactly."""
    if array_namespace(u_a) is np:
        return exact_chords(u_a, u_b)
    import torch

    return torch.cdist(u_a, u_b, compute_mode="donot_use_mm_for_euclid_dist")


def bin_index(chord, inner):
    """Bin of each chord: edges[i] <= c < edges[i + 1] is bin i; beyond the last, K."""
    if array_namespace(chord) is np:
        return np.searchsorted(inner, chord.reshape(-1), side="right")
    import torch

    return torch.bucketize(chord, inner, right=True).reshape(-1)


def bincount(index, weights, length: int):
    """Sum of ``weights`` (or 1) per bin, float64."""
    xp = array_namespace(index)
    return astype(xp.bincount(index, weights=weights, minlength=length), "float64")


def upper(tile):
    """Mask of the strict upper triangle of a square tile."""
    xp = array_namespace(tile)
    return xp.triu(xp.ones_like(tile, dtype=bool), 1)
