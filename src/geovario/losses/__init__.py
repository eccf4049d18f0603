"""Contrastive losses as plain ``torch.nn.Module``s, usable outside geovario."""

from pathlib import Path

from geovario.errors import GeovarioError
from geovario.losses.base import ContrastiveInputs, ContrastiveLoss
from geovario.losses.infonce import InfoNCELoss
from geovario.losses.semivariogram import SemivariogramContrastiveLoss

LOSSES = {"infonce": InfoNCELoss, "semivariogram": SemivariogramContrastiveLoss}


def build_loss(name: str, **options):
    """A loss by name with its options (the training config's ``loss`` and ``loss_options``).

    For ``semivariogram``, ``options["variogram"]`` is the path of a variogram JSON file.

    Raises:
        GeovarioError: for an unknown loss or a semivariogram loss without a variogram.
    """
    if name not in LOSSES:
        raise GeovarioError(f"train: unknown loss {name!r} (choose from {', '.join(LOSSES)})")
    if name == "semivariogram":
        from geovario.variogram import FittedVariogram

        path = options.pop("variogram", None)
        if path is None:
            raise GeovarioError("train: the semivariogram loss needs a variogram file")
        options["variogram"] = FittedVariogram.load(Path(path))
    return LOSSES[name](**options)


__all__ = ["LOSSES", "ContrastiveInputs", "ContrastiveLoss", "InfoNCELoss",
           "SemivariogramContrastiveLoss", "build_loss"]
