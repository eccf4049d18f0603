"""Top-k retrieval of gallery locations for image embeddings, chunked over both sides.

Probabilities are the softmax over the *whole* gallery (as GeoCLIP's predict), computed
with a running log-sum-exp, so no image × gallery matrix is ever held whole: at the
default chunks one block of logits is 1024 × 16384 float32 (64 MiB), where the whole
published 100K gallery in one block took 400 MB per 1,000 images, twice over with the
log-sum-exp's exponentials (the demo's evaluation peak). The price: about a quarter more
time than one block on two CPU cores (benchmarks/RESULTS.md, "Demo").
"""

from dataclasses import dataclass

import numpy as np
import torch

from geovario.geo.distance import unit_vectors


@dataclass(frozen=True)
class TopK:
    """Per image: gallery indices and softmax probabilities of the k best locations."""

    indices: np.ndarray
    probs: np.ndarray


@torch.no_grad()
def top_k(image_emb: torch.Tensor, gallery_emb: torch.Tensor, scale: float, k: int,
          image_chunk: int = 1024, gallery_chunk: int = 16384) -> TopK:
    """The k most probable gallery entries for each image embedding.

    Logits are ``scale * image · gallery``: gallery embeddings are unit vectors, image
    embeddings too, or the mean of several views' unit embeddings (whose logits are then
    the mean of the views' logits).
    """
    k = min(k, len(gallery_emb))
    all_idx, all_prob = [], []
    for first in range(0, len(image_emb), image_chunk):
        images = image_emb[first:first + image_chunk].float()
        best_val = torch.full((len(images), 0), -torch.inf, device=images.device)
        best_idx = torch.zeros((len(images), 0), dtype=torch.long, device=images.device)
        lse = torch.full((len(images),), -torch.inf, device=images.device)
        for start in range(0, len(gallery_emb), gallery_chunk):
            block = gallery_emb[start:start + gallery_chunk].to(images.device, torch.float32)
            logits = scale * images @ block.T
            lse = torch.logaddexp(lse, torch.logsumexp(logits, dim=1))
            val, idx = logits.topk(min(k, logits.shape[1]), dim=1)
            merged_val = torch.cat([best_val, val], dim=1)
            merged_idx = torch.cat([best_idx, idx + start], dim=1)
            best_val, order = merged_val.topk(min(k, merged_val.shape[1]), dim=1)
            best_idx = merged_idx.gather(1, order)
        all_idx.append(best_idx.cpu())
        all_prob.append((best_val - lse[:, None]).exp().cpu())
    return TopK(torch.cat(all_idx).numpy(), torch.cat(all_prob).numpy())


def weighted_mean_on_sphere(coords_deg: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean of (N, k, 2) locations as the normalised mean of their unit vectors."""
    u = unit_vectors(coords_deg.reshape(-1, 2)).reshape(*coords_deg.shape[:-1], 3)
    mean = (u * weights[..., None]).sum(axis=-2)
    mean /= np.linalg.norm(mean, axis=-1, keepdims=True)
    lat = np.degrees(np.arcsin(np.clip(mean[..., 2], -1, 1)))
    lon = np.degrees(np.arctan2(mean[..., 1], mean[..., 0]))
    return np.stack([lat, lon], axis=-1)
