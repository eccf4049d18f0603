"""Contrastive losses as plain ``torch.nn.Module``s, usable outside geovario."""

from geovario.losses.base import ContrastiveInputs
from geovario.losses.infonce import InfoNCELoss

LOSSES = {"infonce": InfoNCELoss}


def build_loss(name: str, **options):
    """A loss by name (the training config's ``loss``)."""
    from geovario.errors import GeovarioError

    if name not in LOSSES:
        raise GeovarioError(f"train: unknown loss {name!r} (choose from {', '.join(LOSSES)})")
    return LOSSES[name](**options)


__all__ = ["LOSSES", "ContrastiveInputs", "InfoNCELoss", "build_loss"]
