"""Structures of a (nested) semivariogram and the distances read off the summed curve.

γ(h) = n + Σ_i s_i (1 − ρ_i(h / r_i)): a nugget n plus one or more structures, each a
registered single model with partial sill s_i, practical range r_i (km) and shape.

Read off the curve:

- the effective practical range: where γ first reaches n + (1 − e⁻³)·Σ s_i (about 95 %
  of the total partial sill); for one structure exactly its range r (for the spherical
  model its finite range), so single fits report what they always did;
- the range the loss uses: that crossing, bounded by the largest lag the fit saw and by
  half the Earth's circumference (no two places are further apart), with the bound it
  met, if any (:func:`bounded_range_km`);
- the slope range (the method prototype's range): the first distance beyond the
  steepest point where dγ/dθ, θ = h / 6371 km the great-circle angle in radians,
  falls below a threshold (0.01 per radian);
- γ at the distances the paper reports accuracy at (``REPORT_KM``).
"""

import math
from dataclasses import dataclass

import numpy as np

from geovario.errors import GeovarioError
from geovario.geo.distance import EARTH_RADIUS_KM
from geovario.variogram.models import E_MINUS_3, single_model

#: Distances (km) at which γ is reported: the accuracy radii 1, 25, 200, 750, 2,500 km.
REPORT_KM = (1, 25, 200, 750, 2500)
#: Half the Earth's circumference (km): the largest great-circle distance there is.
HALF_CIRCUMFERENCE_KM = math.pi * EARTH_RADIUS_KM
#: Default slope threshold of :func:`slope_range_km`, per radian of great-circle angle.
SLOPE_PER_RADIAN = 0.01
_SLOPE_GRID = 4097
_BISECTIONS = 200


@dataclass(frozen=True)
class Structure:
    """One structure: s · (1 − ρ(h / r)) of a registered single model.

    Raises:
        GeovarioError: "variogram: ..." for an unknown or nested model, a negative or
            non-finite partial sill, a non-positive range, or a shape the model does not take.
    """

    model: str
    partial_sill: float
    range_km: float
    shape: float | None = None

    def __post_init__(self):
        spec = single_model(self.model)
        sill, range_km = float(self.partial_sill), float(self.range_km)
        if not (math.isfinite(sill) and sill >= 0):
            raise GeovarioError(f"variogram: {self.model} partial sill must be finite and >= 0, "
                                f"got {self.partial_sill}")
        if not (math.isfinite(range_km) and range_km > 0):
            raise GeovarioError(f"variogram: {self.model} range must be positive, got "
                                f"{self.range_km}")
        if spec.has_shape != (self.shape is not None):
            raise GeovarioError(f"variogram: {self.model} takes "
                                f"{'a' if spec.has_shape else 'no'} shape, got {self.shape!r}")
        if spec.shape_choices is not None and self.shape not in spec.shape_choices:
            raise GeovarioError(f"variogram: {self.model} shape must be one of "
                                f"{list(spec.shape_choices)}, got {self.shape!r}")
        object.__setattr__(self, "partial_sill", sill)
        object.__setattr__(self, "range_km", range_km)
        if self.shape is not None:
            object.__setattr__(self, "shape", float(self.shape))

    def to_dict(self) -> dict:
        """A JSON-ready dict (with the model's formula for readers)."""
        return {"model": self.model, "partial_sill": self.partial_sill,
                "range_km": self.range_km, "shape": self.shape,
                "formula": single_model(self.model).formula}

    @classmethod
    def from_dict(cls, data: dict) -> "Structure":
        """Rebuild from :meth:`to_dict` output (KeyError for a missing field)."""
        return cls(data["model"], data["partial_sill"], data["range_km"], data.get("shape"))


def nested_gamma(h_km, nugget: float, structures: tuple[Structure, ...]):
    """γ(h) = n + Σ s_i(1 − ρ_i(h / r_i)) for numpy arrays or torch tensors of km.

    The first structure goes through its model's own ``gamma`` with the nugget, so a
    single structure evaluates exactly as the single model does; torch inputs keep
    their device and dtype (parameters are Python floats).
    """
    first, *rest = structures
    out = single_model(first.model).gamma(h_km, nugget, first.partial_sill, first.range_km,
                                          first.shape)
    for s in rest:
        out = out + single_model(s.model).gamma(h_km, 0.0, s.partial_sill, s.range_km, s.shape)
    return out


def effective_range_km(nugget: float, structures: tuple[Structure, ...]) -> float:
    """Where γ first reaches n + (1 − e⁻³)·Σ s_i; a single structure's own range.

    Every model reaches (1 − e⁻³) of its partial sill by its range, so the crossing lies
    in [0, max r_i]; it is found by bisection to float precision. With no partial sill
    at all the largest range is returned.
    """
    if len(structures) == 1:
        return structures[0].range_km
    total = sum(s.partial_sill for s in structures)
    high = max(s.range_km for s in structures)
    if total <= 0:
        return high
    target = (1 - E_MINUS_3) * total
    low = 0.0
    for _ in range(_BISECTIONS):
        mid = 0.5 * (low + high)
        if mid in (low, high):
            break
        if float(nested_gamma(np.float64(mid), 0.0, structures)) >= target:
            high = mid
        else:
            low = mid
    return high


def bounded_range_km(nugget: float, structures: tuple[Structure, ...],
                     max_lag_km: float | None = None) -> tuple[float, str | None]:
    """The effective practical range, bounded; and which bound it met (or None).

    Beyond the largest lag the fit saw the curve is an extrapolation, and beyond half the
    circumference there are no pairs at all: a crossing out there says only that the
    bins had not levelled off, so it is clipped to the bound and named
    ("largest_lag" or "half_circumference") for the caller to report.
    """
    crossing = effective_range_km(nugget, structures)
    bounds = [("half_circumference", HALF_CIRCUMFERENCE_KM)]
    if max_lag_km is not None:
        bounds.insert(0, ("largest_lag", float(max_lag_km)))
    name, bound = min(bounds, key=lambda nb: nb[1])
    return (bound, name) if crossing > bound else (crossing, None)


def _slope_per_radian(h_km: np.ndarray, structures: tuple[Structure, ...]) -> np.ndarray:
    """dγ/dθ = R · dγ/dh at h (km), exact to rounding by the complex step, in float64.

    γ(h + iε) = γ(h) + iε·γ'(h) + O(ε²), with no difference of nearby values to lose
    digits (Squire & Trapp 1998): autograd's derivative without importing torch.
    """
    h = np.asarray(h_km, dtype=np.float64)
    step = 1e-20 * np.maximum(np.abs(h), 1e-3)
    return EARTH_RADIUS_KM * nested_gamma(h + 1j * step, 0.0, structures).imag / step


def slope_range_km(structures: tuple[Structure, ...],
                   per_radian: float = SLOPE_PER_RADIAN) -> float:
    """The first distance beyond the steepest point where dγ/dθ < ``per_radian`` (km).

    θ = h / 6371 km is the great-circle angle in radians. The slope is evaluated exactly
    (autograd) on a fine log grid from 10⁻⁴ × the shortest to 50 × the longest range,
    the first grid interval past the steepest point where it drops below the threshold
    is located, and the crossing is refined by bisection to float precision. Starting
    past the steepest point means a gaussian's flat start does not count. Returns 0.0
    when the curve is never that steep, and inf when it is still that steep 50 ranges out.

    Raises:
        GeovarioError: "variogram: ..." for a non-positive threshold.
    """
    if not per_radian > 0:
        raise GeovarioError(f"variogram: slope threshold must be positive, got {per_radian}")
    ranges = [s.range_km for s in structures]
    h = np.geomspace(min(ranges) * 1e-4, max(ranges) * 50, _SLOPE_GRID)
    slope = _slope_per_radian(h, structures)
    steepest = int(np.argmax(slope))
    if slope[steepest] < per_radian:
        return 0.0
    below = np.flatnonzero(slope[steepest:] < per_radian)
    if len(below) == 0:
        return math.inf
    j = steepest + int(below[0])
    low, high = float(h[j - 1]), float(h[j])
    for _ in range(_BISECTIONS):
        mid = 0.5 * (low + high)
        if mid in (low, high):
            break
        if _slope_per_radian(np.array([mid]), structures)[0] < per_radian:
            high = mid
        else:
            low = mid
    return 0.5 * (low + high)


def gamma_at_km(nugget: float, structures: tuple[Structure, ...],
                distances_km=REPORT_KM) -> dict[str, float]:
    """γ at each distance, keyed by the distance as a string ("1", "25", …)."""
    values = nested_gamma(np.asarray(distances_km, dtype=np.float64), nugget, structures)
    return {f"{d:g}": float(v) for d, v in zip(distances_km, values, strict=True)}
