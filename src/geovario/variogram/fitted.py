"""A fitted semivariogram: what the loss asks of it, in numpy or torch.

γ(h) = n + Σ_i s_i (1 − ρ_i(h / r_i)): a nugget plus one structure (a single model) or
several (a nested model, "a+b", short range first); see ``structures``.

One way to build each kind: ``fit_variogram`` fits one to bins,
``FittedVariogram.single`` writes one structure by hand, ``FittedVariogram.load`` /
``from_dict`` read the JSON file (:mod:`~geovario.variogram.fitted_json`), and
``geovario.variogram.blend`` moves one part of the way to another.
"""

import math
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from geovario.errors import GeovarioError, input_error
from geovario.fileio import read_json, write_json_atomic
from geovario.variogram import fitted_json
from geovario.variogram.empirical import EmpiricalVariogram
from geovario.variogram.models import get_model
from geovario.variogram.structures import (
    REPORT_KM,
    SLOPE_PER_RADIAN,
    Structure,
    bounded_range_km,
    effective_range_km,
    gamma_at_km,
    nested_gamma,
    slope_range_km,
)


@dataclass(frozen=True)
class FitRecord:
    """How a variogram was fitted (the file's ``fit`` section).

    One not fitted to bins (written by hand, or a blend) has NaN statistics and no
    candidates.

    Attributes:
        weighting: the bins' weighting (see ``fit_variogram``).
        rss, aicc: the weighted residual sum of squares and the small-sample AIC.
        range_at_bound: a structure's range sat at the search bound.
        candidates: AICc of every model tried, by name.
        parameters: free parameters of every model tried, by name.
    """

    weighting: str = "balanced"
    rss: float = math.nan
    aicc: float = math.nan
    range_at_bound: bool = False
    candidates: dict[str, float] = field(default_factory=dict)
    parameters: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FittedVariogram:
    """γ(h) = nugget + Σ partial_sill_i · (1 − ρ_i(h / range_i)) of registered models.

    ``model``, ``partial_sill`` (total), ``range_km`` (effective, bounded) and ``shape``
    are read off the structures. ``min_pairs`` says which of the ``empirical`` bins the
    fit used (and so how far the curve was seen: ``max_lag_km``).

    Raises:
        GeovarioError: "variogram: ..." unless nugget is a number and structures a
            non-empty tuple of :class:`Structure`.
    """

    nugget: float
    structures: tuple[Structure, ...]
    dissimilarity: str = "cosine"
    estimator: str = "matheron"
    min_pairs: int = 30
    empirical: EmpiricalVariogram | None = None
    fit: FitRecord = field(default_factory=FitRecord)

    def __post_init__(self):
        structures = self.structures
        if (isinstance(self.nugget, str) or not isinstance(structures, tuple | list)
                or not structures or not all(isinstance(s, Structure) for s in structures)):
            raise GeovarioError("variogram: FittedVariogram takes a nugget and a tuple of "
                                "Structure; for one structure by name use "
                                "FittedVariogram.single(model, nugget, partial_sill, range_km)")
        object.__setattr__(self, "nugget", float(self.nugget))
        object.__setattr__(self, "structures", tuple(structures))

    @classmethod
    def single(cls, model: str, nugget: float, partial_sill: float, range_km: float,
               shape: float | None = None, **fields) -> "FittedVariogram":
        """One structure of a registered single model: ``single("exponential", 0.1, 0.5, 800)``.

        ``fields`` are the other fields (dissimilarity, empirical, fit, …).

        Raises:
            GeovarioError: "variogram: ..." for a nested or unknown model or bad parameters.
        """
        if len(get_model(model).components) > 1:
            raise GeovarioError(f"variogram: nested model {model!r} needs structures")
        return cls(nugget, (Structure(model, partial_sill, range_km, shape),), **fields)

    @property
    def model(self) -> str:
        """The registered model's name: "exponential", or "a+b" for a nested model."""
        return "+".join(s.model for s in self.structures)

    @property
    def nested(self) -> bool:
        """Whether there is more than one structure."""
        return len(self.structures) > 1

    @property
    def partial_sill(self) -> float:
        """Total partial sill Σ s_i (a single structure's own)."""
        return math.fsum(s.partial_sill for s in self.structures)

    @property
    def sill(self) -> float:
        """Total sill, nugget + partial sill: the dissimilarity expected of unrelated places."""
        return self.nugget + self.partial_sill

    @property
    def shape(self) -> float | None:
        """A single structure's shape (α, ν); None for shape-free and nested models."""
        return None if self.nested else self.structures[0].shape

    @property
    def max_lag_km(self) -> float | None:
        """The largest lag among the bins the fit used (None without bins)."""
        emp = self.empirical
        if emp is None:
            return None
        used = (emp.pairs >= max(self.min_pairs, 1)) & np.isfinite(emp.gamma) \
            & np.isfinite(emp.lag_km)
        return float(emp.lag_km[used].max()) if used.any() else None

    @cached_property
    def curve_range_km(self) -> float:
        """Effective practical range of the curve: γ first reaches n + 0.95·Σ s_i there."""
        return effective_range_km(self.nugget, self.structures)

    @cached_property
    def _bounded_range(self) -> tuple[float, str | None]:
        return bounded_range_km(self.nugget, self.structures, self.max_lag_km)

    @property
    def range_km(self) -> float:
        """The range the loss uses: ``curve_range_km`` bounded (see ``range_bound``)."""
        return self._bounded_range[0]

    @property
    def range_bound(self) -> str | None:
        """"largest_lag" or "half_circumference" when ``range_km`` was clipped there."""
        return self._bounded_range[1]

    @property
    def warnings(self) -> list[str]:
        """What makes this fit's range or sill unreliable: a bound it sits at, in words."""
        out = []
        if self.partial_sill <= 0:
            out.append("partial sill 0 (a pure nugget): no spatial structure, so the range "
                       "separates nothing")
        if self.range_bound is not None:
            out.append(f"the fitted curve reaches 95 % of its partial sill at "
                       f"{self.curve_range_km:,.0f} km, beyond the "
                       f"{self.range_bound.replace('_', ' ')}; range_km is clipped to "
                       f"{self.range_km:,.0f} km (the bins have not levelled off, so the loss "
                       "finds few far, hard negatives)")
        if self.fit.range_at_bound:
            out.append("a structure's range sits at the search bound (the first lag or 3 x "
                       "the largest lag)")
        return out

    def warn(self) -> None:
        """Print :attr:`warnings` to stderr in one line (nothing when there are none)."""
        if self.warnings:
            print(f"variogram: warning: {'; '.join(self.warnings)}", file=sys.stderr)

    def gamma(self, h_km):
        """Expected dissimilarity at distance h (numpy array or torch tensor of km)."""
        return nested_gamma(h_km, self.nugget, self.structures)

    def spatial_correlation(self, h_km):
        """1 − γ(h) / sill: how much of the dissimilarity is explained by proximity at h."""
        return 1.0 - self.gamma(h_km) / self.sill

    def slope_range_km(self, per_radian: float = SLOPE_PER_RADIAN) -> float:
        """The method prototype's range: where dγ/dθ (θ = h / 6371 km) drops below per_radian.

        The first distance beyond the steepest point of the curve (so a gaussian's flat
        start does not count), in km; see :func:`~geovario.variogram.structures.slope_range_km`.
        """
        return slope_range_km(self.structures, per_radian)

    def gamma_at_km(self, distances_km=REPORT_KM) -> dict[str, float]:
        """γ at the given distances (default 1, 25, 200, 750, 2,500 km), keyed "1", "25", …."""
        return gamma_at_km(self.nugget, self.structures, distances_km)

    def to_dict(self) -> dict:
        """The JSON file's content, version 2 (see :mod:`~geovario.variogram.fitted_json`)."""
        return fitted_json.to_dict(self)

    @classmethod
    def from_dict(cls, data: dict, source: str = "variogram") -> "FittedVariogram":
        """Rebuild from :meth:`to_dict` output (version 2) or a version-1 file.

        Raises:
            GeovarioError: "<source>: ..." for another format, an unknown version, a missing
                field, an unknown model or structures that do not match the model name.
        """
        core, record = fitted_json.fields_from_dict(data, source)
        return cls(**core, fit=FitRecord(**record))

    def save(self, path: str | Path) -> None:
        """Write the JSON file atomically (a temp file in the same folder, then a rename)."""
        write_json_atomic(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> "FittedVariogram":
        """Read a file written by :meth:`save`.

        Raises:
            GeovarioError: "<path>: ..." when the file is missing or not valid JSON, and
                those of :meth:`from_dict`.
        """
        path = Path(path)
        if not path.is_file():
            raise input_error(path, "no such variogram file")
        return cls.from_dict(read_json(path), source=str(path))
