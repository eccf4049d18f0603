"""A fitted semivariogram: evaluation in numpy or torch, and its JSON file.

The JSON file (``format: geovario.variogram``, ``version: 1``) holds the model name,
nugget, partial sill, sill, practical range in km (``range_km``, where γ reaches
n + 0.95·s; see ``models``), shape (α for stable, ν for matérn, else null), the
dissimilarity and estimator, the fit settings, and the empirical bins.
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from geovario.errors import GeovarioError
from geovario.fileio import finite_or_none, write_json_atomic
from geovario.variogram.empirical import EmpiricalVariogram
from geovario.variogram.models import get_model

FORMAT = "geovario.variogram"
VERSION = 1
RANGE_CONVENTION = ("practical range: gamma(range_km) = nugget + (1 - exp(-3)) * partial_sill "
                    "(about 95 %); spherical: the finite range")

@dataclass(frozen=True)
class FittedVariogram:
    """γ(h) = nugget + partial_sill · (1 − ρ(h / range_km)) of a registered model."""

    model: str
    nugget: float
    partial_sill: float
    range_km: float
    shape: float | None = None
    dissimilarity: str = "cosine"
    estimator: str = "matheron"
    weighting: str = "pairs"
    min_pairs: int = 30
    rss: float = math.nan
    aic: float = math.nan
    range_at_bound: bool = False
    empirical: EmpiricalVariogram | None = None
    candidates: dict[str, float] = field(default_factory=dict)

    @property
    def sill(self) -> float:
        """Total sill, nugget + partial sill: the dissimilarity expected of unrelated places."""
        return self.nugget + self.partial_sill

    def gamma(self, h_km):
        """Expected dissimilarity at distance h (numpy array or torch tensor, km)."""
        return get_model(self.model).gamma(h_km, self.nugget, self.partial_sill,
                                           self.range_km, self.shape)

    def spatial_correlation(self, h_km):
        """1 − γ(h) / sill: how much of the dissimilarity is explained by proximity at h."""
        return 1.0 - self.gamma(h_km) / self.sill

    def to_dict(self) -> dict:
        """A JSON-ready dict (empty bins are written with null values)."""
        out = {
            "format": FORMAT, "version": VERSION, "model": self.model,
            "nugget": self.nugget, "partial_sill": self.partial_sill, "sill": self.sill,
            "range_km": self.range_km, "shape": self.shape,
            "dissimilarity": self.dissimilarity, "estimator": self.estimator,
            "range_convention": RANGE_CONVENTION,
            "formula": get_model(self.model).formula,
            "fit": {"weighting": self.weighting, "min_pairs": self.min_pairs,
                    "rss": finite_or_none(self.rss), "aic": finite_or_none(self.aic),
                    "range_at_bound": self.range_at_bound,
                    "candidates_aic": {k: finite_or_none(v) for k, v in self.candidates.items()}},
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
        """Rebuild from :meth:`to_dict` output.

        Raises:
            GeovarioError: "<source>: ..." for another format, an unknown version, a missing
                field or an unknown model.
        """
        if data.get("format") != FORMAT:
            raise GeovarioError(f"{source}: not a geovario variogram file "
                                f"(format {data.get('format')!r})")
        if data.get("version") != VERSION:
            raise GeovarioError(f"{source}: variogram file version {data.get('version')!r}, "
                                f"this geovario reads version {VERSION}")
        try:
            get_model(data["model"])
            fit = data.get("fit", {})
            bins = data.get("bins", [])
            empirical = None
            if bins:
                def column(key):
                    return np.array([math.nan if b[key] is None else b[key] for b in bins],
                                    dtype=np.float64)
                edges = np.array([b["low_km"] for b in bins] + [bins[-1]["high_km"]])
                empirical = EmpiricalVariogram(
                    edges, column("lag_km"), column("gamma"),
                    np.array([b["pairs"] for b in bins], dtype=np.int64), column("spread"),
                    data["dissimilarity"], data.get("estimator", "matheron"),
                    int(data.get("n_points", 0)), data.get("sampled_pairs"))
            return cls(
                model=data["model"], nugget=float(data["nugget"]),
                partial_sill=float(data["partial_sill"]), range_km=float(data["range_km"]),
                shape=None if data.get("shape") is None else float(data["shape"]),
                dissimilarity=data["dissimilarity"],
                estimator=data.get("estimator", "matheron"),
                weighting=fit.get("weighting", "pairs"), min_pairs=fit.get("min_pairs", 30),
                rss=_none_to_nan(fit.get("rss")), aic=_none_to_nan(fit.get("aic")),
                range_at_bound=bool(fit.get("range_at_bound", False)), empirical=empirical,
                candidates={k: _none_to_nan(v)
                            for k, v in fit.get("candidates_aic", {}).items()},
            )
        except KeyError as missing:
            raise GeovarioError(f"{source}: missing field {missing}") from None

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

def _none_to_nan(value) -> float:
    return math.nan if value is None else float(value)

