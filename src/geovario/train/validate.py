"""Held-out loss and accuracy at each epoch's end."""

import numpy as np
import torch
import torch.nn.functional as F


@torch.no_grad()
def validate(model, store, rows: np.ndarray, batch_size: int, device: torch.device) -> dict:
    """Loss and top-1 accuracy of each held-out image among its batch's locations."""
    model.eval()
    losses, hits, total = [], 0, 0
    coords = torch.from_numpy(store.coords.astype(np.float32))
    for first in range(0, len(rows) - 1, batch_size):
        chunk = rows[first:first + batch_size]
        if len(chunk) < 2:
            break
        features = torch.from_numpy(store.features(chunk)).to(device)
        logits = model.logits(features, coords[torch.from_numpy(chunk)].to(device)).float()
        targets = torch.arange(len(chunk), device=device)
        losses.append(float(F.cross_entropy(logits, targets)) * len(chunk))
        hits += int((logits.argmax(1) == targets).sum())
        total += len(chunk)
    model.train()
    return {"val_loss": sum(losses) / max(total, 1), "val_batch_top1": hits / max(total, 1)}
