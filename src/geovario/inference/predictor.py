"""Prediction with a trained run: backbone features → top-k gallery locations.

A :class:`Predictor` loads a run's weights once (from a folder, or from the Hugging Face
Hub as ``hf:OWNER/NAME[@REVISION]``), embeds its gallery once (cached in the run's
``gallery-cache/``) and then answers any number of requests with one matrix product per
batch.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from geovario.allocator import keep_freed_memory
from geovario.checkpoint import load_weights
from geovario.distributed import resolve_device
from geovario.errors import GeovarioError
from geovario.hub import gallery_cache_dir, resolve_run_dir
from geovario.inference.gallery import cached_gallery_embeddings, load_gallery, top_k
from geovario.inference.gallery.retrieval import weighted_mean_on_sphere
from geovario.models import GeoCLIP
from geovario.rundir import WEIGHTS_NAME, read_model_config


@dataclass(frozen=True)
class Prediction:
    """Point predictions (N, 2) and the top-k candidates (N, k, 2) with probabilities (N, k)."""

    coords: np.ndarray
    topk_coords: np.ndarray
    topk_probs: np.ndarray


class Predictor:
    """A trained run, ready to locate backbone features.

    ``run`` is a run directory or ``hf:OWNER/NAME[@REVISION]``, a run on the Hugging Face
    Hub (downloaded once into the Hugging Face cache; see :mod:`geovario.hub`).
    """

    def __init__(self, run: str | Path, gallery: str = "geoclip", device: str = "auto",
                 cache: bool = True, progress: bool = False):
        keep_freed_memory()  # gallery and query batches reuse memory instead of faulting it in
        self.run_dir = resolve_run_dir(run)
        self.model_config = read_model_config(self.run_dir)
        self.device = torch.device(resolve_device(device))
        model = GeoCLIP(self.model_config)
        load_weights(self.run_dir / WEIGHTS_NAME, model, self.model_config.to_dict())
        self.model = model.to(self.device).eval().requires_grad_(False)
        self.gallery = load_gallery(gallery)
        cache_dir = gallery_cache_dir(run) if cache else None
        self.gallery_emb = cached_gallery_embeddings(self.model, self.gallery, cache_dir,
                                                     self.device, progress).to(self.device)
        self.scale = float(self.model.logit_scale.exp())

    @property
    def backbone(self) -> str:
        """The backbone whose features this run was trained on."""
        return self.model_config.backbone

    def check_backbone(self, backbone: str, source: str) -> None:
        """Refuse features from another backbone than the run's.

        Raises:
            GeovarioError: "<source>: features come from backbone X, the run was trained on Y".
        """
        if backbone != self.backbone:
            raise GeovarioError(f"{source}: features come from backbone {backbone!r}, the run "
                                f"was trained on {self.backbone!r}")

    @torch.no_grad()
    def predict(self, features, k: int = 1, refine: int | None = None,
                batch_size: int = 4096) -> Prediction:
        """Locate (N, D) backbone features.

        Args:
            k: number of candidates returned per image.
            refine: if given, the point prediction is the probability-weighted mean on the
                sphere of the ``refine`` best candidates instead of the best one.
        """
        if k < 1 or (refine is not None and refine < 1):
            raise GeovarioError(f"predict: top-k and refine must be >= 1, got {k}, {refine}")
        if max(k, refine or 1) > len(self.gallery):
            raise GeovarioError(f"predict: top-k {max(k, refine or 1)} exceeds the "
                                f"{len(self.gallery)} locations of gallery {self.gallery.name}")
        features = torch.as_tensor(np.asarray(features, dtype=np.float32))
        if features.ndim != 2 or features.shape[1] != self.model_config.feature_dim:
            raise GeovarioError(f"predict: features of shape {tuple(features.shape)}, the run "
                                f"expects (N, {self.model_config.feature_dim})")
        images = torch.cat([self.model.encode_images(features[i:i + batch_size]
                                                     .to(self.device))
                            for i in range(0, len(features), batch_size)])
        best = top_k(images, self.gallery_emb, self.scale, max(k, refine or 1))
        candidates = self.gallery.coords[best.indices]
        point = candidates[:, 0] if not refine else weighted_mean_on_sphere(
            candidates[:, :refine], best.probs[:, :refine])
        return Prediction(point, candidates[:, :k], best.probs[:, :k])
