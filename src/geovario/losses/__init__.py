"""Contrastive losses as plain ``torch.nn.Module``s, usable outside geovario."""

from pathlib import Path

from geovario.errors import GeovarioError
from geovario.losses.base import LOSSES, ContrastiveInputs, ContrastiveLoss
from geovario.losses.infonce import InfoNCELoss
from geovario.losses.semivariogram import SemivariogramContrastiveLoss


def list_losses() -> list[str]:
    """Names :func:`build_loss` accepts."""
    return LOSSES.names()


def build_loss(name: str, **options):
    """A loss by name with its options (the training config's ``loss`` and ``loss_options``).

    For ``semivariogram``, ``options["variogram"]`` is the path of a variogram JSON file.

    Raises:
        GeovarioError: for an unknown loss or a semivariogram loss without a variogram.
    """
    loss_class = LOSSES[name]
    if loss_class is SemivariogramContrastiveLoss:
        from geovario.variogram import FittedVariogram

        path = options.pop("variogram", None)
        if path is None:
            raise GeovarioError("the semivariogram loss needs a variogram file")
        options["variogram"] = FittedVariogram.load(Path(path))
    return loss_class(**options)


__all__ = ["LOSSES", "ContrastiveInputs", "ContrastiveLoss", "InfoNCELoss",
           "SemivariogramContrastiveLoss", "build_loss", "list_losses"]
