"""Refitting the loss's semivariogram on the trained image head's embeddings.

The variogram fitted once on frozen-backbone features describes a space the model is
not trained in. With ``refit_every = N`` the loss compares images by their image-head
embeddings instead, and every N steps (and once before the first step) the variogram
is refitted on a sample of the training store embedded by the current head, then
blended into the old one: θ ← (1 − α)·θ + α·θ_new for the nugget and each structure's
partial sill, range and continuous shape (a nested fit mixes structure by structure).
Refits use the current variogram's model (single or nested) and the library's default
bins (log-spaced from 1 km) and weights. Every rank computes the same refit from the
same rows, so no communication is needed under torchrun.
"""

from dataclasses import replace

import numpy as np
import torch

from geovario.store import FeatureStore
from geovario.variogram import empirical_variogram, fit_variogram
from geovario.variogram.fitted import FittedVariogram
from geovario.variogram.models import get_model


def blend(old: FittedVariogram, new: FittedVariogram, smoothing: float) -> FittedVariogram:
    """Parameters moved a share ``smoothing`` of the way from ``old`` to ``new``.

    When both have the same structure layout (the same models in the same order) the
    nugget and every structure's partial sill, range and shape are mixed; a shape chosen
    from a finite set (matérn ν) is taken from ``new``, as is everything when the
    layouts differ. Mixing keeps r₁ < r₂ of nested fits, since both sides have it.
    """
    if [s.model for s in old.structures] != [s.model for s in new.structures]:
        return new

    def mix(a, b):
        return (1 - smoothing) * a + smoothing * b

    structures = tuple(
        replace(b, partial_sill=mix(a.partial_sill, b.partial_sill),
                range_km=mix(a.range_km, b.range_km),
                shape=b.shape if get_model(b.model).shape_choices is not None
                or a.shape is None or b.shape is None else mix(a.shape, b.shape))
        for a, b in zip(old.structures, new.structures, strict=True))
    return replace(new, nugget=mix(old.nugget, new.nugget), structures=structures)


class VariogramRefitter:
    """Refits ``loss_fn.variogram`` every ``every`` steps from ``sample`` random store rows."""

    def __init__(self, store: FeatureStore, rows: np.ndarray, *, every: int, smoothing: float,
                 sample: int, seed: int):
        self.store, self.rows = store, rows
        self.every, self.smoothing, self.sample, self.seed = every, smoothing, sample, seed

    def due(self, step: int) -> bool:
        """Whether a refit is due after ``step`` optimizer steps."""
        return step % self.every == 0

    @torch.no_grad()
    def refit(self, model, loss_fn, step: int, device: torch.device, *,
              smoothing: float | None = None) -> FittedVariogram:
        """Fit on the current head's embeddings and blend into the loss's variogram."""
        rng = np.random.default_rng([self.seed, step])
        rows = np.sort(rng.choice(self.rows, min(self.sample, len(self.rows)), replace=False))
        features = torch.from_numpy(self.store.features(rows)).to(device)
        embedded = model.image_head(features).float().cpu().numpy()
        empirical = empirical_variogram(self.store.coords[rows], embedded, seed=self.seed)
        new = fit_variogram(empirical, model=loss_fn.variogram.model)
        weight = self.smoothing if smoothing is None else smoothing
        loss_fn.set_variogram(blend(loss_fn.variogram, new, weight))
        return loss_fn.variogram
