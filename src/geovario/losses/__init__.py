"""Contrastive losses as plain ``torch.nn.Module``s, usable outside geovario.

The package imports torch only when a loss is used, so the option values in
:mod:`geovario.losses.options` serve the command line's help cheaply.
"""

import importlib
from pathlib import Path

from geovario.errors import GeovarioError
from geovario.lazy import lazy_attributes

_lazy = lazy_attributes(__name__, {
    "ContrastiveInputs": "base", "ContrastiveLoss": "base", "InfoNCELoss": "infonce",
    "SemivariogramContrastiveLoss": "semivariogram"})
#: The built-in losses; each registers itself from the module of the same name.
BUILT_IN_LOSSES = ("infonce", "semivariogram")


def _registry():
    """The loss registry with the built-in losses registered."""
    for module in BUILT_IN_LOSSES:
        importlib.import_module(f"{__name__}.{module}")
    from geovario.losses.base import LOSSES

    return LOSSES


def __getattr__(name: str) -> object:
    return _registry() if name == "LOSSES" else _lazy(name)


def list_losses() -> list[str]:
    """Names :func:`build_loss` accepts."""
    return _registry().names()


def build_loss(name: str, **options):
    """A loss by name with its options (the training config's ``loss`` and ``loss_options``).

    For ``semivariogram``, ``options["variogram"]`` is the path of a variogram JSON file.

    Raises:
        GeovarioError: for an unknown loss or a semivariogram loss without a variogram.
    """
    from geovario.losses.semivariogram import SemivariogramContrastiveLoss

    loss_class = _registry()[name]
    if loss_class is SemivariogramContrastiveLoss:
        from geovario.variogram import FittedVariogram

        path = options.pop("variogram", None)
        if path is None:
            raise GeovarioError("the semivariogram loss needs a variogram file")
        options["variogram"] = FittedVariogram.load(Path(path))
    return loss_class(**options)


__all__ = ["BUILT_IN_LOSSES", "LOSSES", "ContrastiveInputs", "ContrastiveLoss", "InfoNCELoss",
           "SemivariogramContrastiveLoss", "build_loss", "list_losses"]
