"""A fitted semivariogram: evaluation in numpy or torch, and its JSON file.

γ(h) = n + Σ_i s_i (1 − ρ_i(h / r_i)): a nugget plus one structure (a single model) or
several (a nested model, "a+b", short range first); see ``structures``.

The JSON file (``format: geovario.variogram``, ``version: 2``) holds the model name,
the nugget, the ``structures`` (model, partial sill, practical range in km, shape, each),
and for readers: the total partial sill and sill, ``range_km`` (the range the loss uses:
where the curve first reaches n + 0.95·Σ s_i, bounded by the largest lag the fit saw and
by half the circumference; ``curve_range_km`` is the crossing itself and ``range_bound``
the bound it met, or null), ``shape`` (α for stable, ν for matérn, null otherwise and for
nested models), ``slope_range_km`` (see :meth:`FittedVariogram.slope_range_km`),
``gamma_at_km`` (γ at 1, 25, 200, 750 and 2,500 km, keyed "1", "25", …), the
dissimilarity and estimator, the fit (settings, criterion and selection rule, every
candidate's AICc, ``warnings``) and the empirical bins. Version-1 files (one structure,
no ``structures``) and version-2 files of earlier releases (plain AIC) still load; their
old AIC values are dropped, not relabelled.
"""

import json
import math
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from geovario.errors import GeovarioError
from geovario.fileio import finite_or_none, write_json_atomic
from geovario.variogram.criterion import CRITERION, SELECTION
from geovario.variogram.empirical import EmpiricalVariogram
from geovario.variogram.models import get_model
from geovario.variogram.structures import (
    HALF_CIRCUMFERENCE_KM,
    REPORT_KM,
    SLOPE_PER_RADIAN,
    Structure,
    bounded_range_km,
    effective_range_km,
    gamma_at_km,
    nested_gamma,
    slope_range_km,
)

FORMAT = "geovario.variogram"
VERSION = 2
READABLE_VERSIONS = (1, 2)
RANGE_CONVENTION = ("practical range: gamma(range_km) = nugget + (1 - exp(-3)) * partial_sill "
                    "(about 95 %); spherical: the finite range; nested models: the effective "
                    "range of the summed curve, each structure's range_km in 'structures'")
RANGE_DEFINITION = ("range_km: the first distance where the fitted curve reaches nugget + "
                    "(1 - exp(-3)) * partial_sill (curve_range_km), bounded by the largest "
                    f"lag the fit used (max_lag_km) and by {HALF_CIRCUMFERENCE_KM:.0f} km "
                    "(half the circumference); range_bound names the bound met, or null")


@dataclass(frozen=True, init=False)
class FittedVariogram:
    """γ(h) = nugget + Σ partial_sill_i · (1 − ρ_i(h / range_i)) of registered models.

    Build it from one structure, as always, ``FittedVariogram("exponential", nugget,
    partial_sill, range_km, shape)``, or from ``structures=(Structure(...), ...)``;
    ``model``, ``partial_sill`` (total), ``range_km`` (effective) and ``shape`` are then
    derived. ``dataclasses.replace`` works on ``nugget``, ``structures`` and the fit
    fields; asking it to change ``range_km`` and the like is an error (change the
    structures instead).

    Raises:
        GeovarioError: "variogram: ..." for both or neither of structures and the single
            model's parameters, a nested model name without structures, or bad structures.
    """

    nugget: float
    structures: tuple[Structure, ...]
    dissimilarity: str = "cosine"
    estimator: str = "matheron"
    weighting: str = "balanced"
    min_pairs: int = 30
    rss: float = math.nan
    aicc: float = math.nan
    range_at_bound: bool = False
    empirical: EmpiricalVariogram | None = None
    candidates: dict[str, float] = field(default_factory=dict)
    parameters: dict[str, int] = field(default_factory=dict)

    def __init__(self, model: str | None = None, nugget: float = 0.0,
                 partial_sill: float | None = None, range_km: float | None = None,
                 shape: float | None = None, dissimilarity: str = "cosine",
                 estimator: str = "matheron", weighting: str = "balanced", min_pairs: int = 30,
                 rss: float = math.nan, aicc: float = math.nan, range_at_bound: bool = False,
                 empirical: EmpiricalVariogram | None = None,
                 candidates: dict[str, float] | None = None,
                 parameters: dict[str, int] | None = None, *,
                 structures: tuple[Structure, ...] | None = None):
        single = (partial_sill, range_km, shape)
        if structures is not None:
            structures = tuple(structures)
            if any(value is not None for value in single) or not structures:
                raise GeovarioError("variogram: give either structures or a model's "
                                    "partial_sill, range_km and shape, not both")
            name = "+".join(s.model for s in structures)
            if model is not None and model != name:
                raise GeovarioError(f"variogram: model {model!r} does not match its structures "
                                    f"({name!r})")
        else:
            if model is None or partial_sill is None or range_km is None:
                raise GeovarioError("variogram: give a model with its partial_sill and range_km, "
                                    "or structures")
            if len(get_model(model).components) > 1:
                raise GeovarioError(f"variogram: nested model {model!r} needs structures")
            structures = (Structure(model, partial_sill, range_km, shape),)
        values = dict(nugget=float(nugget), structures=structures, dissimilarity=dissimilarity,
                      estimator=estimator, weighting=weighting, min_pairs=min_pairs, rss=rss,
                      aicc=aicc, range_at_bound=range_at_bound, empirical=empirical,
                      candidates={} if candidates is None else candidates,
                      parameters={} if parameters is None else parameters)
        for key, value in values.items():
            object.__setattr__(self, key, value)

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
        if self.range_at_bound:
            out.append("a structure's range sits at the search bound (the first lag or 3 x "
                       "the largest lag)")
        return out

    def warn(self) -> None:
        """Print :attr:`warnings` to stderr in one line (nothing when there are none)."""
        if self.warnings:
            print(f"variogram: warning: {'; '.join(self.warnings)}", file=sys.stderr)

    @property
    def shape(self) -> float | None:
        """A single structure's shape (α, ν); None for shape-free and nested models."""
        return None if self.nested else self.structures[0].shape

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
        """A JSON-ready dict, version 2 (empty bins are written with null values)."""
        out = {
            "format": FORMAT, "version": VERSION, "model": self.model,
            "nugget": self.nugget, "partial_sill": self.partial_sill, "sill": self.sill,
            "range_km": self.range_km, "curve_range_km": finite_or_none(self.curve_range_km),
            "range_bound": self.range_bound, "max_lag_km": self.max_lag_km,
            "range_definition": RANGE_DEFINITION, "shape": self.shape,
            "structures": [s.to_dict() for s in self.structures],
            "slope_range_km": finite_or_none(self.slope_range_km()),
            "slope_per_radian": SLOPE_PER_RADIAN,
            "gamma_at_km": self.gamma_at_km(),
            "dissimilarity": self.dissimilarity, "estimator": self.estimator,
            "range_convention": RANGE_CONVENTION,
            "formula": get_model(self.model).formula,
            "fit": {"weighting": self.weighting, "min_pairs": self.min_pairs,
                    "rss": finite_or_none(self.rss), "criterion": CRITERION,
                    "selection": SELECTION, "aicc": finite_or_none(self.aicc),
                    "range_at_bound": self.range_at_bound, "warnings": self.warnings,
                    "candidates_aicc": {k: finite_or_none(v) for k, v in self.candidates.items()},
                    "candidates_parameters": self.parameters},
            "bins": [],
        }
        emp = self.empirical
        if emp is not None:
            out["n_points"] = emp.n_points
            out["sampled_pairs"] = emp.sampled_pairs
            out["bins"] = [
                {"lag_km": finite_or_none(emp.lag_km[k]), "gamma": finite_or_none(emp.gamma[k]),
                 "pairs": int(emp.pairs[k]), "spread": finite_or_none(emp.spread[k]),
                 "low_km": float(emp.bin_edges_km[k]), "high_km": float(emp.bin_edges_km[k + 1])}
                for k in range(len(emp.pairs))
            ]
        return out

    @classmethod
    def from_dict(cls, data: dict, source: str = "variogram") -> "FittedVariogram":
        """Rebuild from :meth:`to_dict` output (version 2) or a version-1 file.

        Raises:
            GeovarioError: "<source>: ..." for another format, an unknown version, a missing
                field, an unknown model or structures that do not match the model name.
        """
        if data.get("format") != FORMAT:
            raise GeovarioError(f"{source}: not a geovario variogram file "
                                f"(format {data.get('format')!r})")
        if data.get("version") not in READABLE_VERSIONS:
            raise GeovarioError(f"{source}: variogram file version {data.get('version')!r}, "
                                f"this geovario reads versions "
                                f"{', '.join(map(str, READABLE_VERSIONS))}")
        try:
            nugget = data["nugget"]
            if data["version"] == 1:
                structures = (Structure(data["model"], data["partial_sill"], data["range_km"],
                                        data.get("shape")),)
            else:
                structures = tuple(Structure.from_dict(s) for s in data["structures"])
            fit = data.get("fit", {})
            return cls(
                data["model"], nugget, structures=structures,
                dissimilarity=data["dissimilarity"],
                estimator=data.get("estimator", "matheron"),
                weighting=fit.get("weighting", "pairs"), min_pairs=fit.get("min_pairs", 30),
                rss=_none_to_nan(fit.get("rss")), aicc=_none_to_nan(fit.get("aicc")),
                range_at_bound=bool(fit.get("range_at_bound", False)),
                empirical=_empirical_from_dict(data),
                candidates={k: _none_to_nan(v)
                            for k, v in fit.get("candidates_aicc", {}).items()},
                parameters={k: int(v) for k, v in fit.get("candidates_parameters", {}).items()},
            )
        except KeyError as missing:
            raise GeovarioError(f"{source}: missing field {missing}") from None
        except GeovarioError as error:
            raise GeovarioError(f"{source}: {str(error).removeprefix('variogram: ')}") from None

    def save(self, path: str | Path) -> None:
        """Write the JSON file atomically (a temp file in the same folder, then a rename)."""
        write_json_atomic(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> "FittedVariogram":
        """Read a file written by :meth:`save`.

        Raises:
            GeovarioError: "<path>: ..." when the file is missing or not valid JSON.
        """
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise GeovarioError(f"{path}: no such variogram file") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise GeovarioError(f"{path}: not valid JSON ({error})") from None
        return cls.from_dict(data, source=str(path))


def _empirical_from_dict(data: dict) -> EmpiricalVariogram | None:
    """The empirical bins of a variogram file (None when it has none)."""
    bins = data.get("bins", [])
    if not bins:
        return None

    def column(key):
        return np.array([math.nan if b[key] is None else b[key] for b in bins],
                        dtype=np.float64)

    edges = np.array([b["low_km"] for b in bins] + [bins[-1]["high_km"]])
    return EmpiricalVariogram(edges, column("lag_km"), column("gamma"),
                              np.array([b["pairs"] for b in bins], dtype=np.int64),
                              column("spread"), data["dissimilarity"],
                              data.get("estimator", "matheron"), int(data.get("n_points", 0)),
                              data.get("sampled_pairs"))


def _none_to_nan(value) -> float:
    return math.nan if value is None else float(value)

