"""What every contrastive loss receives, so losses are interchangeable in the training loop."""

from dataclasses import dataclass

import torch


@dataclass
class ContrastiveInputs:
    """Context of one step's logits (B anchors × C candidates).

    Candidates are the (global) batch's locations followed by the queue's. ``targets[i]``
    is the column of anchor i's own location. Features are the frozen backbone's
    embeddings of the anchors and of each candidate's image (None when not tracked).
    """

    targets: torch.Tensor
    anchor_coords: torch.Tensor | None = None
    candidate_coords: torch.Tensor | None = None
    anchor_features: torch.Tensor | None = None
    candidate_features: torch.Tensor | None = None
    queue_full: bool = True
