"""The variogram of a feature store's backbone embeddings, from a random sample of its rows."""

import numpy as np

from geovario.store import FeatureStore
from geovario.variogram.bins import standard_bins
from geovario.variogram.empirical import empirical_variogram
from geovario.variogram.fit import fit_variogram
from geovario.variogram.fitted import FittedVariogram


def fit_store_variogram(store: FeatureStore, *, sample: int | None = 10_000,
                        bins: int | None = None, max_km: float | None = None,
                        model: str = "auto", weighting: str = "balanced", seed: int = 0,
                        device: str = "cpu", progress: bool = False) -> FittedVariogram:
    """Cosine-dissimilarity semivariogram of ``sample`` random rows (all rows when None).

    The defaults are the library's: log-spaced bins from 1 km up to the largest distance
    (``bins``/``max_km`` switch to the classical layout, see ``standard_bins``),
    balanced weights and the best single or nested model by Akaike's criterion. A sample
    of 10,000 images gives 5·10⁷ pairs in about two seconds on two CPU cores for 768-d
    features.
    """
    rows = np.arange(len(store))
    if sample is not None and sample < len(store):
        rows = np.sort(np.random.default_rng(seed).choice(len(store), sample, replace=False))
    coords = store.coords[rows]
    edges = standard_bins(coords, bins=bins, max_km=max_km, seed=seed)
    empirical = empirical_variogram(coords, store.features(rows), edges, seed=seed,
                                    device=device, progress=progress)
    return fit_variogram(empirical, model=model, weighting=weighting)
