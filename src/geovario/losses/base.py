"""What every contrastive loss receives and provides, so losses are interchangeable."""

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from geovario.registry import Registry


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
    each step, and may describe its settings for the run's log.
    """

    #: Whether ``ContrastiveInputs`` must carry the anchors' and candidates' features.
    needs_features: ClassVar[bool] = False

    def __init__(self):
        super().__init__()
        self.last_stats: dict[str, float] = {}

    def settings(self) -> dict:
        """What the run's log states about this loss once, at the start."""
        return {}


#: Losses by name; a new loss registers itself with ``@LOSSES.register("name")``.
LOSSES: Registry[type[ContrastiveLoss]] = Registry("loss")
