"""The JSON file of a fitted variogram (``variogram.json``), written and read.

``format: geovario.variogram``, ``version: 2``. It holds the model name, the nugget, the
``structures`` (model, partial sill, practical range in km, shape, each), and for
readers: the total partial sill and sill, ``range_km`` (the range the loss uses: where
the curve first reaches n + 0.95·Σ s_i, bounded by the largest lag the fit saw and by
half the circumference; ``curve_range_km`` is the crossing itself and ``range_bound``
the bound it met, or null), ``shape`` (α for stable, ν for matérn, null otherwise and
for nested models), ``slope_range_km``, ``gamma_at_km`` (γ at 1, 25, 200, 750 and
2,500 km, keyed "1", "25", …), the dissimilarity and estimator, the ``fit`` (settings,
criterion and selection rule, every candidate's AICc, ``warnings``) and the empirical
``bins``. Version-1 files (one structure, no ``structures``) and version-2 files of
earlier releases (plain AIC) still load; their old AIC values are dropped, not
relabelled.

This module knows the layout only; :class:`~geovario.variogram.fitted.FittedVariogram`
builds itself from :func:`fields_from_dict` (so neither imports the other's internals).
"""

import math

import numpy as np

from geovario.errors import GeovarioError
from geovario.fileio import finite_or_none
from geovario.variogram.criterion import CRITERION, SELECTION
from geovario.variogram.empirical import EmpiricalVariogram
from geovario.variogram.models import get_model
from geovario.variogram.structures import HALF_CIRCUMFERENCE_KM, SLOPE_PER_RADIAN, Structure

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


def to_dict(variogram) -> dict:
    """A FittedVariogram as a JSON-ready dict, version 2 (empty bins hold nulls)."""
    v, fit = variogram, variogram.fit
    out = {
        "format": FORMAT, "version": VERSION, "model": v.model,
        "nugget": v.nugget, "partial_sill": v.partial_sill, "sill": v.sill,
        "range_km": v.range_km, "curve_range_km": finite_or_none(v.curve_range_km),
        "range_bound": v.range_bound, "max_lag_km": v.max_lag_km,
        "range_definition": RANGE_DEFINITION, "shape": v.shape,
        "structures": [s.to_dict() for s in v.structures],
        "slope_range_km": finite_or_none(v.slope_range_km()),
        "slope_per_radian": SLOPE_PER_RADIAN,
        "gamma_at_km": v.gamma_at_km(),
        "dissimilarity": v.dissimilarity, "estimator": v.estimator,
        "range_convention": RANGE_CONVENTION,
        "formula": get_model(v.model).formula,
        "fit": {"weighting": fit.weighting, "min_pairs": v.min_pairs,
                "rss": finite_or_none(fit.rss), "criterion": CRITERION,
                "selection": SELECTION, "aicc": finite_or_none(fit.aicc),
                "range_at_bound": fit.range_at_bound, "warnings": v.warnings,
                "candidates_aicc": {k: finite_or_none(a) for k, a in fit.candidates.items()},
                "candidates_parameters": fit.parameters},
        "bins": [],
    }
    emp = v.empirical
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


def fields_from_dict(data: dict, source: str) -> tuple[dict, dict]:
    """(FittedVariogram's fields but ``fit``, FitRecord's fields) of a version 1 or 2 dict.

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
        name = "+".join(s.model for s in structures)
        if data["model"] != name:
            raise GeovarioError(f"model {data['model']!r} does not match its structures "
                                f"({name!r})")
        fit = data.get("fit", {})
        core = dict(nugget=nugget, structures=structures,
                    dissimilarity=data["dissimilarity"],
                    estimator=data.get("estimator", "matheron"),
                    min_pairs=fit.get("min_pairs", 30), empirical=_empirical_from_dict(data))
        record = dict(weighting=fit.get("weighting", "pairs"), rss=_none_to_nan(fit.get("rss")),
                      aicc=_none_to_nan(fit.get("aicc")),
                      range_at_bound=bool(fit.get("range_at_bound", False)),
                      candidates={k: _none_to_nan(a)
                                  for k, a in fit.get("candidates_aicc", {}).items()},
                      parameters={k: int(p)
                                  for k, p in fit.get("candidates_parameters", {}).items()})
    except KeyError as missing:
        raise GeovarioError(f"{source}: missing field {missing}") from None
    except GeovarioError as error:
        raise GeovarioError(f"{source}: {str(error).removeprefix('variogram: ')}") from None
    return core, record


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
