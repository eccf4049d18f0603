"""Refitting the loss's semivariogram on the trained image head's embeddings.

The variogram fitted once on frozen-backbone features describes a space the model is
not trained in. With ``refit_every = N`` the loss compares images by their image-head
embeddings instead, and every N steps (and once before the first step) the variogram
is refitted on a sample of the training store embedded by the current head, then
blended into the old one.

A refit chooses its model as any fit does (``model="auto"``: AICc with parsimony), so a
family that no longer suits the head's space is not forced on it. What keeps training
stable is the blend: it mixes *curves*, γ ← (1 − α)·γ_old + α·γ_new on a log grid of
lags from the first to the largest observed lag, and re-expresses the mix as the
registered model (single or nested) that fits it best (least squares on the grid; see
:mod:`geovario.variogram.blending`). The loss's range is read off that curve, so it moves by
about α of the way per refit whatever the families do. Refits use the library's default
bins (log-spaced from 1 km) and weights. Every rank computes the same refit from the same
rows, so no communication is needed under torchrun.

A region-wise variogram keeps its regions (places do not move as the head trains): each
refit fits the global curve and every region's shrunk curve (in the new global curve's
family) anew on the sample, and blends each into its old self as above.
"""

import numpy as np
import torch

from geovario.store import FeatureStore
from geovario.variogram import empirical_variogram, fit_variogram
from geovario.variogram.blending import blend
from geovario.variogram.fitted import FittedVariogram
from geovario.variogram.models import single_family_names
from geovario.variogram.regional import RegionalVariogram
from geovario.variogram.regional_fit import fit_regional_variogram

__all__ = ["VariogramRefitter", "blend", "blend_regional"]  # blend: its former home


def blend_regional(old: RegionalVariogram, new: RegionalVariogram,
                   smoothing: float) -> RegionalVariogram:
    """Each curve of ``new`` (same regions as ``old``) blended into ``old``'s, as :func:`blend`.

    A region that used the global curve before and after uses the blended global one.
    A region's blend chooses among the single models and the two curves' own (the nested
    families, 90 % of a full search's 1.5 s, are left out unless one of them is in use).
    """
    mixed = blend(old.global_fit, new.global_fit, smoothing)
    fits = [mixed if (o.fitted is old.global_fit and n.fitted is new.global_fit)
            else blend(o.fitted, n.fitted, smoothing, families=list(dict.fromkeys(
                [*single_family_names(), o.fitted.model, n.fitted.model])))
            for o, n in zip(old.regions, new.regions, strict=True)]
    return new.with_curves(mixed, fits)


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
              smoothing: float | None = None) -> FittedVariogram | RegionalVariogram:
        """Fit on the current head's embeddings and blend into the loss's variogram.

        A warning (range or sill at a bound) is printed when the blended variogram has
        one the loss's current variogram did not, not at every refit.
        """
        rng = np.random.default_rng([self.seed, step])
        rows = np.sort(rng.choice(self.rows, min(self.sample, len(self.rows)), replace=False))
        features = torch.from_numpy(self.store.features(rows)).to(device)
        embedded = model.image_head(features).float().cpu().numpy()
        empirical = empirical_variogram(self.store.coords[rows], embedded, seed=self.seed)
        new = fit_variogram(empirical, warn=False)
        weight = self.smoothing if smoothing is None else smoothing
        old = loss_fn.variogram
        if isinstance(old, RegionalVariogram) and old.regions:
            new = fit_regional_variogram(
                self.store.coords[rows], embedded, new, regions=old.requested,
                min_points=old.min_points, shrinkage_pairs=old.shrinkage_pairs,
                centroids_deg=old.centroids_deg, model=None, sample=None, seed=self.seed,
                warn=False)
            blended = blend_regional(old, new, weight)
        else:
            blended = blend(old, new, weight)
        if set(blended.warnings) - set(old.warnings):
            blended.warn()
        loss_fn.set_variogram(blended)
        return loss_fn.variogram
