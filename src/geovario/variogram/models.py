"""Theoretical semivariogram models, all parameterised by the *practical range*.

γ(h) = n + s · (1 − ρ(h / r)),  with nugget n ≥ 0, partial sill s ≥ 0, sill n + s,
practical range r (km) and ρ the model's correlation function of x = h / r.

Range convention (the same for every model, so ranges compare across models):
r is where the correlation has fallen to e⁻³ ≈ 0.0498, i.e. γ(r) = n + 0.95·s.
For the spherical model, which reaches its sill exactly, r is that finite range.

| model       | ρ(x)                                    | GSTools length scale ℓ        |
|-------------|-----------------------------------------|-------------------------------|
| spherical   | 1 − 1.5x + 0.5x³ for x < 1, else 0      | ℓ = r                         |
| exponential | exp(−3x)                                | ℓ = r / 3                     |
| gaussian    | exp(−3x²)                               | ℓ = r · √(π / 12)             |
| stable      | exp(−3x^α), α ∈ (0, 2]                  | ℓ = r / 3^(1/α)               |
| matern      | Matérn with ν ∈ {0.5, 1.5, 2.5}, closed | numeric (see ``MATERN_X95``)  |

Nested models, "a+b": γ(h) = n + s₁(1 − ρ_a(h/r₁)) + s₂(1 − ρ_b(h/r₂)) with r₁ < r₂, a
short-range structure a plus a long-range structure b. Every ordered pair of the
shape-free models above is registered (``exponential+exponential``,
``spherical+gaussian``, …). Each registered name is a *variogram family* (the network is
"the model" everywhere else in geovario): :data:`FAMILIES` is the one list that fits,
``model="auto"`` and ``geovario variogram --family`` choose from.

A subclass defines only ``correlation``; fitting and evaluation live elsewhere.
``correlation`` gets the array namespace of its input (numpy or torch, see
:mod:`geovario.arrays`), so the same formula serves numpy (fitting, plots; complex lags
for exact slopes) and torch (the loss, on any device).
"""

import math
from typing import ClassVar

import numpy as np

from geovario.arrays import array_namespace
from geovario.errors import GeovarioError
from geovario.registry import Registry

E_MINUS_3 = math.exp(-3.0)


class VariogramModel:
    """Base class: a correlation function ρ(x) of the range-scaled lag x = h / r."""

    name: ClassVar[str]
    #: Shape values tried by the fit: a continuous interval or a finite set.
    shape_bounds: ClassVar[tuple[float, float] | None] = None
    shape_choices: ClassVar[tuple[float, ...] | None] = None
    formula: ClassVar[str] = ""

    def correlation(self, x, shape: float | None, xp):
        """ρ(x) for x = h / r ≥ 0; ρ(0) = 1 and ρ(1) = e⁻³ (or 0 for spherical).

        ``xp`` is numpy or torch, whichever ``x`` belongs to. numpy's ``clip`` orders
        complex numbers by their real part first, so a clip at a bound the lag does not
        reach keeps the complex step's derivative, and a clipped lag gets derivative 0.
        """
        raise NotImplementedError

    @property
    def has_shape(self) -> bool:
        """Whether the model has a shape parameter (reported as ``shape`` in JSON)."""
        return self.shape_bounds is not None or self.shape_choices is not None

    @property
    def components(self) -> tuple["VariogramModel", ...]:
        """The single-structure models summed: just this one."""
        return (self,)

    def gamma(self, h_km, nugget: float, partial_sill: float, range_km: float,
              shape: float | None = None):
        """γ(h) = n + s(1 − ρ(h / r)), for numpy arrays or torch tensors of km."""
        xp = array_namespace(h_km)
        return nugget + partial_sill * (1.0 - self.correlation(h_km / range_km, shape, xp))


class NestedModel:
    """A sum of single-structure models, short range first: γ = n + Σ s_i(1 − ρ_i(h/r_i))."""

    shape_bounds = None
    shape_choices = None
    has_shape = False

    def __init__(self, *components: VariogramModel):
        self.components = components
        self.name = "+".join(c.name for c in components)
        ranges = " < ".join(f"r{i + 1}" for i in range(len(components)))
        self.formula = (" + ".join(["n"] + [f"s{i + 1}(1 - rho_{c.name}(h/r{i + 1}))"
                                            for i, c in enumerate(components)])
                        + f", {ranges}")

    def gamma(self, h_km, nugget: float, partial_sills, ranges_km, shapes=None):
        """γ(h) for sequences of partial sills, ranges (and shapes), numpy or torch."""
        shapes = shapes or [None] * len(self.components)
        out = nugget
        for model, s, r, shape in zip(self.components, partial_sills, ranges_km, shapes,
                                      strict=True):
            out = out + model.gamma(h_km, 0.0, s, r, shape)
        return out


#: Variogram families, single and nested, by name, in registration order.
FAMILIES: Registry[VariogramModel | NestedModel] = Registry("variogram family")


def register_model(cls: type[VariogramModel]) -> type[VariogramModel]:
    """Class decorator: add a model to the registry under its ``name``."""
    FAMILIES.register(cls.name)(cls())
    return cls


def register_nested(*names: str) -> NestedModel:
    """Register the sum of registered single models, short range first ("a+b")."""
    nested = NestedModel(*(single_model(name) for name in names))
    return FAMILIES.register(nested.name)(nested)


def list_families() -> list[str]:
    """Every family ``fit_variogram`` accepts (besides ``auto``), single and nested."""
    return FAMILIES.names()


def get_model(name: str) -> VariogramModel | NestedModel:
    """Look a model (single or nested) up by name.

    Raises:
        GeovarioError: "unknown variogram family 'X' (choose from ...)".
    """
    return FAMILIES[name]


def single_model(name: str) -> VariogramModel:
    """Look a single-structure model up by name.

    Raises:
        GeovarioError: "variogram: ..." for an unknown or a nested model.
    """
    model = get_model(name)
    if isinstance(model, NestedModel):
        raise GeovarioError(f"variogram: {name!r} is a nested family; a structure needs one of "
                            f"{', '.join(single_family_names())}")
    return model


def single_family_names() -> tuple[str, ...]:
    """Names of the single-structure families."""
    return tuple(name for name, m in FAMILIES.items() if not isinstance(m, NestedModel))


def nested_family_names() -> tuple[str, ...]:
    """Names of the nested families."""
    return tuple(name for name, m in FAMILIES.items() if isinstance(m, NestedModel))


@register_model
class Spherical(VariogramModel):
    """Spherical model: reaches the sill exactly at h = r."""

    name: ClassVar[str] = "spherical"
    formula: ClassVar[str] = "n + s(1.5x - 0.5x^3) for x = h/r < 1, n + s beyond"

    def correlation(self, x, shape, xp):  # noqa: D102
        x = xp.clip(x, 0.0, 1.0)
        return 1.0 - 1.5 * x + 0.5 * x * x * x


@register_model
class Exponential(VariogramModel):
    """Exponential model, practical range r: ρ = exp(−3h/r)."""

    name: ClassVar[str] = "exponential"
    formula: ClassVar[str] = "n + s(1 - exp(-3h/r))"

    def correlation(self, x, shape, xp):  # noqa: D102
        return xp.exp(-3.0 * x)


@register_model
class Gaussian(VariogramModel):
    """Gaussian model, practical range r: ρ = exp(−3(h/r)²)."""

    name: ClassVar[str] = "gaussian"
    formula: ClassVar[str] = "n + s(1 - exp(-3(h/r)^2))"

    def correlation(self, x, shape, xp):  # noqa: D102
        return xp.exp(-3.0 * x * x)


@register_model
class Stable(VariogramModel):
    """Stable (powered exponential) model: ρ = exp(−3(h/r)^α), α ∈ (0, 2].

    The model of the method's prototype (GSTools' ``Stable`` with a nugget).
    """

    name: ClassVar[str] = "stable"
    shape_bounds: ClassVar[tuple[float, float]] = (0.05, 2.0)
    formula: ClassVar[str] = "n + s(1 - exp(-3(h/r)^alpha)), 0 < alpha <= 2"

    def correlation(self, x, shape, xp):  # noqa: D102
        return xp.exp(-3.0 * xp.clip(x, 0.0, None) ** shape)


def _matern_unit(s, nu: float, xp):
    """Matérn correlation of s = √(2ν)·h/ℓ for the half-integer ν in closed form."""
    e = xp.exp(-s)
    if nu == 0.5:
        return e
    if nu == 1.5:
        return (1.0 + s) * e
    return (1.0 + s + s * s / 3.0) * e


def _x95(nu: float) -> float:
    """The s at which the Matérn correlation equals e⁻³ (found by bisection)."""
    lo, hi = 0.0, 50.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if _matern_unit(np.float64(mid), nu, np) > E_MINUS_3:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


MATERN_X95 = {nu: _x95(nu) for nu in (0.5, 1.5, 2.5)}


@register_model
class Matern(VariogramModel):
    """Matérn model with smoothness ν ∈ {0.5, 1.5, 2.5} (closed forms), scaled so ρ(r) = e⁻³.

    ρ(h) = M_ν(c_ν · h / r) with M_ν the Matérn correlation of s = √(2ν)·h/ℓ and
    c_ν = ``MATERN_X95[ν]``; ν = 0.5 is the exponential model.
    """

    name: ClassVar[str] = "matern"
    shape_choices: ClassVar[tuple[float, ...]] = (0.5, 1.5, 2.5)
    formula: ClassVar[str] = "n + s(1 - M_nu(c_nu h/r)), nu in {0.5, 1.5, 2.5}"

    def correlation(self, x, shape, xp):  # noqa: D102
        if shape not in MATERN_X95:
            raise GeovarioError(f"variogram: matern shape (nu) must be one of "
                                f"{sorted(MATERN_X95)}, got {shape!r}")
        return _matern_unit(MATERN_X95[shape] * xp.clip(x, 0.0, None), shape, xp)


def _register_nested_pairs() -> None:
    """Nested candidates: every ordered pair (short, long) of the shape-free single models."""
    shape_free = [name for name in single_family_names() if not FAMILIES[name].has_shape]
    for short in shape_free:
        for long in shape_free:
            register_nested(short, long)


_register_nested_pairs()
