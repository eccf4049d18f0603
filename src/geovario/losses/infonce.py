"""GeoCLIP's contrastive loss: image → GPS cross entropy against [batch; queue]."""

import torch
import torch.nn.functional as F

from geovario.losses.base import LOSSES, ContrastiveInputs, ContrastiveLoss


@LOSSES.register("infonce")
class InfoNCELoss(ContrastiveLoss):
    """L = mean_i −log softmax(logits_i)[target_i], computed in float32 for stability.

    Only the image → location direction, as GeoCLIP (the queue has no images to contrast).
    """

    def forward(self, logits: torch.Tensor, inputs: ContrastiveInputs) -> torch.Tensor:
        """Mean cross entropy of each anchor's row against its target column."""
        return F.cross_entropy(logits.float(), inputs.targets)
