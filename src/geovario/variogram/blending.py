"""Blending two fitted variograms as curves: a refit moves the loss's variogram part way.

It mixes *curves*, γ ← (1 − α)·γ_old + α·γ_new on a log grid of lags from the first to
the largest observed lag, and re-expresses the mix as the registered model (single or
nested) that fits it best (least squares on the grid). The range is read off that curve,
so it moves by about α of the way whatever the families do; mixing parameters (ranges
linearly in km, across different families) would not mean that.
"""

from dataclasses import replace

import numpy as np

from geovario.variogram.fitted import FitRecord, FittedVariogram
from geovario.variogram.least_squares import fit_model
from geovario.variogram.models import FAMILIES
from geovario.variogram.structures import HALF_CIRCUMFERENCE_KM

#: Lags of the blending grid (log-spaced).
BLEND_GRID = 64


def blend(old: FittedVariogram, new: FittedVariogram, smoothing: float, *,
          families: list[str] | None = None) -> FittedVariogram:
    """The curve ``smoothing`` of the way from ``old`` to ``new``, as one fitted model.

    The result carries ``new``'s bins (the loss's per-lag spread describes the current
    space) and settings, but no fit statistics of its own: its RSS and AICc are NaN and
    it has no candidates, since it was not fitted to bins. ``smoothing`` 1 returns
    ``new`` itself. ``families`` are the candidates (default: every registered family).
    """
    if smoothing >= 1:
        return new
    lags = [v.empirical.lag_km[np.isfinite(v.empirical.lag_km) & (v.empirical.lag_km > 0)]
            for v in (old, new) if v.empirical is not None]
    low = min((lag.min() for lag in lags if len(lag)), default=1.0)
    high = new.max_lag_km or old.max_lag_km or HALF_CIRCUMFERENCE_KM
    h = np.geomspace(low, max(high, 10 * low), BLEND_GRID)
    target = (1 - smoothing) * old.gamma(h) + smoothing * new.gamma(h)
    fits = [fit_model(h, target, model=name) for name in families or FAMILIES.names()]
    best = min(fits, key=lambda fit: fit.rss)
    return replace(new, nugget=best.nugget, structures=best.structures,
                   fit=FitRecord(weighting=new.fit.weighting,
                                 range_at_bound=best.range_at_bound))
