"""One numpy/torch convention: a function works in the namespace of the arrays it is given.

``xp = array_namespace(x)`` is numpy for numpy arrays (and Python numbers, lists) and torch
for torch tensors, as the Array API standard's ``array_namespace``; the function then
writes its formula once with ``xp.sin``, ``xp.clip``, ``xp.stack(..., axis=-1)`` and the
other names numpy and torch share. Torch inputs keep their dtype and device (and their
gradient); numpy inputs are whatever the function documents, usually float64. torch is
never imported here, so numpy-only callers (``geovario metrics``, ``variogram`` on a few
thousand points) start without it.
"""

import sys
from types import ModuleType

import numpy as np


def array_namespace(*arrays: object) -> ModuleType:
    """The namespace of ``arrays``: torch if any is a torch tensor, else numpy."""
    torch = sys.modules.get("torch")
    if torch is not None and any(isinstance(a, torch.Tensor) for a in arrays):
        return torch
    return np


def astype(x, dtype):
    """``x`` in ``dtype`` (a name such as "float32", or a numpy or torch dtype), same device."""
    xp = array_namespace(x)
    name = (str(dtype).removeprefix("torch.") if type(dtype).__module__ == "torch"
            else np.dtype(dtype).name)
    return xp.asarray(x, dtype=getattr(xp, name))


def to_numpy(x) -> np.ndarray:
    """A numpy array of ``x`` (a torch tensor is detached and copied to the CPU)."""
    return x.detach().cpu().numpy() if array_namespace(x) is not np else np.asarray(x)
