"""What every contrastive loss receives and provides, so losses are interchangeable."""

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from geovario.registry import Registry
from geovario.variogram.fitted import FittedVariogram
from geovario.variogram.regional import RegionalVariogram, variogram_from_dict


@dataclass
class ContrastiveInputs:
    """Context of one step's logits (B anchors × C candidates).

    Candidates are the (global) batch's locations followed by the queue's. ``targets[i]``
    is the column of anchor i's own location. Coordinates are the places themselves
    (before any GPS-noise augmentation). Features are the embeddings of the anchors'
    and of each candidate's images (None unless the loss ``needs_features``).
    """

    targets: torch.Tensor
    anchor_coords: torch.Tensor | None = None
    candidate_coords: torch.Tensor | None = None
    anchor_features: torch.Tensor | None = None
    candidate_features: torch.Tensor | None = None
    queue_full: bool = True


class ContrastiveLoss(nn.Module):
    """Base of geovario's losses: ``forward(logits, inputs)`` → scalar loss.

    A subclass sets ``needs_features`` when it compares images (the training step then
    keeps each queued sample's features), fills ``last_stats`` with numbers worth logging
    each step, and may describe its settings for the run's log. What a loss needs is
    declared here, so training, the command line and the Hub never name a loss.
    """

    #: Whether ``ContrastiveInputs`` must carry the anchors' and candidates' features.
    needs_features: ClassVar[bool] = False
    #: Whether :func:`~geovario.losses.build_loss` hands it the run's variogram
    #: (``variogram=``); :class:`VariogramGuidedLoss` sets it.
    needs_variogram: ClassVar[bool] = False
    #: The frozen dataclass of its options, if any: the defaults the command line shows,
    #: and the types ``--loss-option KEY=VALUE`` converts to.
    options_class: ClassVar[type | None] = None
    #: Hub tags and a sentence for the model card of a run trained with this loss.
    card_tags: ClassVar[tuple[str, ...]] = ()
    card_text: ClassVar[str] = ""

    def __init__(self):
        super().__init__()
        self.last_stats: dict[str, float] = {}

    def settings(self) -> dict:
        """What the run's log states about this loss once, at the start."""
        return {}

    def get_extra_state(self) -> dict[str, Any]:
        """What a resumed run must restore of this loss, JSON-ready (none by default)."""
        return {}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_extra_state`'s output (nothing to do by default)."""


class VariogramGuidedLoss(ContrastiveLoss):
    """A loss that reads the run's fitted variogram; training may refit it as it goes.

    ``self.variogram`` is the current fit, global (:class:`FittedVariogram`) or
    region-wise (:class:`RegionalVariogram`, whose plain attributes are its global
    fit's); a refit calls :meth:`set_variogram`, which a subclass extends to recompute
    what it derives from the fit. The variogram is the loss's state, so a resumed run
    continues from the last refit.
    """

    needs_variogram = True

    def __init__(self, variogram: FittedVariogram | RegionalVariogram):
        super().__init__()
        self.set_variogram(variogram)

    def set_variogram(self, variogram: FittedVariogram | RegionalVariogram) -> None:
        """Use another fitted variogram from now on (a refit)."""
        self.variogram = variogram

    def get_extra_state(self) -> dict[str, Any]:
        """The current (possibly refitted) variogram."""
        return {"variogram": self.variogram.to_dict()}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        """Continue from a saved variogram."""
        if state.get("variogram") is not None:
            self.set_variogram(variogram_from_dict(state["variogram"]))


#: Losses by name; a new loss registers itself with ``@LOSSES.register("name")``.
LOSSES: Registry[type[ContrastiveLoss]] = Registry("loss")
