"""Choosing the number of regions K of a region-wise variogram on held-out places.

Each candidate K (1 = the global curve alone) is fitted on most of the places and scored
on the rest (:mod:`~geovario.variogram.regional_score`: the fit-weighted mean squared
error of the held-out pairs' dissimilarity against the curve of the anchor's region).
The rule is the one-standard-error rule (Breiman et al. 1984) on paired differences:
among the candidates whose score exceeds the lowest by at most one jackknife standard
error of that difference, the one with the fewest regions wins (then the smaller K
asked for). More regions must earn their place by more than the noise of the held-out
sample. A stationary field so keeps one curve, or gets regions whose curves differ
little from it: one realisation of a field differs a little from region to region, and
held-out places share that realisation with the fitted ones.

The held-out places are a seeded random sample (``holdout`` of the places, 20 % by
default), or with ``folds`` = V ≥ 2 each of V random parts in turn (V-fold
cross-validation: every place scored once, for V times the fitting; the pairs of all
folds are pooled into one score), not spatial blocks. The loss applies the curves to
anchors drawn from the training places themselves, so the question is how well a curve
fitted on a sample predicts pairs of other places from the same sampling, not how it
extrapolates into areas without places: holding out whole areas would leave them
without regions of their own (k-means follows the places) and charge every K for an
extrapolation the loss never makes. What a random split leaves shared, the one
realisation of the field, is shared by every candidate alike; spatial dependence is
accounted for in the standard errors instead (blocks of the jackknife).

Candidates are fitted as the final curve is (the global fit's bins, weighting and
``min_pairs``; the same ``min_points``, κ and family), but on the fitting places only,
the global curve they shrink toward included; then the chosen K is fitted on all places.
"""

import math
from dataclasses import asdict, dataclass

import numpy as np

from geovario.errors import GeovarioError
from geovario.geo.validate import validate_coords
from geovario.variogram.empirical import empirical_variogram
from geovario.variogram.fit import fit_variogram
from geovario.variogram.fitted import FittedVariogram
from geovario.variogram.regional import DEFAULT_SHRINKAGE_PAIRS
from geovario.variogram.regional_fit import (
    DEFAULT_MIN_POINTS,
    DEFAULT_SAMPLE,
    fit_regional_variogram,
)
from geovario.variogram.regional_score import (
    PairErrors,
    difference_errors,
    jackknife_scores,
    pair_errors,
    scores,
    spatial_blocks,
)

#: K tried by default (1: the global curve alone).
DEFAULT_CANDIDATES = (1, 2, 3, 4, 6, 8, 12)
#: Share of the places held out for scoring.
DEFAULT_HOLDOUT = 0.2
#: V-fold cross-validation by default: one random split chose K = 1, 8 and 3 for three seeds
#: on Blue Marble, five folds K = 1 for all three (README, "Choosing K").
DEFAULT_FOLDS = 5
#: Spatial blocks of the held-out places for the jackknife.
JACKKNIFE_BLOCKS = 20
SCORE = ("mean squared error of the held-out pairs' dissimilarity (both places held out) "
         "against the curve of the first place's region, per bin of the global fit, bins "
         "weighted as the fit weights them")
RULE = ("one standard error: among the candidates whose score exceeds the lowest by at most "
        "one jackknife standard error of the difference (spatial blocks of held-out places), "
        "the fewest regions, then the smallest K asked for")
SPLIT = "random (seeded): a share of the places, or each of V parts in turn"


@dataclass(frozen=True)
class Candidate:
    """One K: regions found on the fitting places, score, distance to the best, its SE."""

    requested: int
    regions: int
    score: float
    difference: float
    difference_se: float
    eligible: bool


@dataclass(frozen=True)
class RegionSelection:
    """The candidates' scores and the K chosen (``chosen``, as asked for; 1: global)."""

    candidates: tuple[Candidate, ...]
    chosen: int
    best: int
    holdout: float
    folds: int
    seed: int
    fit_places: int
    validation_places: int
    validation_pairs: int
    blocks: int
    bins: int

    def to_dict(self) -> dict:
        """JSON-ready: settings, score and rule in words, every candidate, the choice."""
        return {"split": SPLIT, "holdout": self.holdout, "folds": self.folds,
                "seed": self.seed,
                "fit_places": self.fit_places, "validation_places": self.validation_places,
                "validation_pairs": self.validation_pairs, "bins_scored": self.bins,
                "jackknife_blocks": self.blocks, "score": SCORE, "rule": RULE,
                "best": self.best, "chosen": self.chosen,
                "candidates": [{key: (None if isinstance(v, float) and not math.isfinite(v)
                                      else v) for key, v in asdict(c).items()}
                               for c in self.candidates]}


def holdout_rows(n: int, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(fitting rows, held-out rows), sorted: a seeded random ``holdout`` share held out.

    Raises:
        GeovarioError: "variogram: ..." for a share outside (0, 1) or one that leaves
            either part with fewer than two places.
    """
    if not 0 < holdout < 1:
        raise GeovarioError(f"variogram: the held-out share must lie in (0, 1), got {holdout}")
    held = round(holdout * n)
    if held < 2 or n - held < 2:
        raise GeovarioError(f"variogram: holding out {holdout:g} of {n} places leaves "
                            f"{held} to score and {n - held} to fit; need 2 or more of each")
    order = np.random.default_rng([seed, 1]).permutation(n)
    return np.sort(order[held:]), np.sort(order[:held])


def split_rows(n: int, holdout: float, folds: int,
               seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(fitting rows, held-out rows) of each split: one by ``holdout``, or ``folds`` parts.

    Raises:
        GeovarioError: "variogram: ..." as :func:`holdout_rows`, for folds < 1, or for
            folds that leave a part with fewer than two places.
    """
    if folds < 1:
        raise GeovarioError(f"variogram: folds must be at least 1, got {folds}")
    if folds == 1:
        return [holdout_rows(n, holdout, seed)]
    if n // folds < 2:
        raise GeovarioError(f"variogram: {folds} folds of {n} places leave fewer than 2 in a "
                            "fold")
    order = np.random.default_rng([seed, 1]).permutation(n)
    return [(np.sort(np.delete(order, np.s_[f::folds])), np.sort(order[f::folds]))
            for f in range(folds)]


def choose(candidates_regions: list[int], requested: list[int], score: np.ndarray,
           difference_se: np.ndarray) -> tuple[int, int, np.ndarray]:
    """(chosen index, best index, eligible mask) by ``RULE``; an unknown SE admits only ties."""
    best = int(np.argmin(score))
    difference = score - score[best]
    se = np.nan_to_num(difference_se, nan=0.0)
    eligible = difference <= se
    chosen = min(np.flatnonzero(eligible),
                 key=lambda i: (candidates_regions[i], requested[i], score[i]))
    return int(chosen), best, eligible


def select_regions(coords_deg, features, global_fit: FittedVariogram, *,
                   candidates=DEFAULT_CANDIDATES, holdout: float = DEFAULT_HOLDOUT,
                   folds: int = DEFAULT_FOLDS, min_points: int = DEFAULT_MIN_POINTS,
                   shrinkage_pairs: float = DEFAULT_SHRINKAGE_PAIRS, model: str = "auto",
                   region_model: str | None = "auto", fit_nugget: bool = True,
                   sample: int | None = DEFAULT_SAMPLE, seed: int = 0) -> RegionSelection:
    """Fit every candidate K on the fitting places, score them on the held-out ones, choose.

    Args:
        coords_deg, features: the places and their features, as given to the global fit.
        global_fit: the global fit on all places: its bins, weighting, ``min_pairs`` and
            dissimilarity are the candidates' and the score's.
        candidates: the K to try, each at least 1 (1: the global curve alone).
        holdout: share of the places held out for scoring (with one fold).
        folds: 1 (one split by ``holdout``) or V ≥ 2 (V-fold cross-validation).
        min_points, shrinkage_pairs: as :func:`fit_regional_variogram` takes them.
        model: the family of the fitting places' global curve, as ``fit_variogram`` takes it.
        region_model: the regions' (``model`` of :func:`fit_regional_variogram`: "auto"
            by AICc; None: the family of the global curve they shrink toward).
        fit_nugget: whether the fitting places' global curve fits a nugget.
        sample: use at most this many random places (as the final regional fit does).
        seed: of the sample, the split, k-means and the jackknife's blocks.

    Raises:
        GeovarioError: "variogram: ..." for no or bad candidates, a global fit without bins
            or not by Matheron's estimator, a bad held-out share or fold count, or held-out
            places with no bin of ``min_pairs`` pairs.
    """
    requested = sorted({int(k) for k in candidates})
    if not requested or requested[0] < 1:
        raise GeovarioError(f"variogram: region candidates must be integers >= 1, got "
                            f"{list(candidates)}")
    if global_fit.empirical is None or global_fit.estimator != "matheron":
        raise GeovarioError("variogram: region-wise fits need the global fit's bins and "
                            "Matheron's estimator")
    coords = validate_coords(coords_deg, source="variogram: coordinates")
    values = np.asarray(features)
    if sample is not None and len(coords) > sample:
        rows = np.sort(np.random.default_rng(seed).choice(len(coords), sample, replace=False))
        coords, values = coords[rows], values[rows]
    splits = split_rows(len(coords), holdout, folds, seed)
    held_all = np.sort(np.concatenate([held for _, held in splits]))
    blocks = np.full(len(coords), -1)
    blocks[held_all] = spatial_blocks(coords[held_all], JACKKNIFE_BLOCKS, seed)
    n_blocks = int(blocks.max()) + 1
    errors, found = None, np.ones(len(requested), dtype=np.int64)
    for fit_rows, held_rows in splits:
        fits = _candidates(coords[fit_rows], values[fit_rows], global_fit, requested,
                           min_points=min_points, shrinkage_pairs=shrinkage_pairs,
                           model=model, region_model=region_model, fit_nugget=fit_nugget,
                           seed=seed)
        found = np.maximum(found, [len(getattr(f, "regions", ())) for f in fits])
        part = pair_errors(coords[held_rows], values[held_rows], fits,
                           global_fit.empirical.bin_edges_km, blocks[held_rows],
                           n_blocks=n_blocks, dissimilarity=global_fit.dissimilarity)
        errors = part if errors is None else PairErrors(errors.counts + part.counts,
                                                        errors.squared + part.squared)
    pairs = errors.counts.sum(axis=(1, 2))
    keep = pairs >= max(global_fit.min_pairs, 1)
    if not keep.any():
        raise GeovarioError(f"variogram: the {len(held_all)} held-out places have no bin of "
                            f"{global_fit.min_pairs}+ pairs; hold out a larger share")
    weighting = global_fit.fit.weighting
    score = scores(errors, keep, weighting)
    se = difference_errors(jackknife_scores(errors, keep, weighting), int(np.argmin(score)))
    chosen, best, eligible = choose(found.tolist(), requested, score, se)
    return RegionSelection(
        tuple(Candidate(k, int(n), float(s), float(s - score[best]), float(e), bool(ok))
              for k, n, s, e, ok in zip(requested, found, score, se, eligible, strict=True)),
        requested[chosen], requested[best], holdout if folds == 1 else 1 / folds, folds, seed,
        len(splits[0][0]), len(held_all), int(pairs[keep].sum()), n_blocks, int(keep.sum()))


def _candidates(coords, values, global_fit: FittedVariogram, requested: list[int], *,
                min_points: int, shrinkage_pairs: float, model: str,
                region_model: str | None, fit_nugget: bool, seed: int) -> list:
    """Each K's fit on these places: the global curve (K = 1) and the regions shrunk to it."""
    base = fit_variogram(empirical_variogram(coords, values, global_fit.empirical.bin_edges_km,
                                             dissimilarity=global_fit.dissimilarity),
                         model=model, weighting=global_fit.fit.weighting,
                         min_pairs=global_fit.min_pairs, fit_nugget=fit_nugget, warn=False)
    return [base if k == 1 else fit_regional_variogram(
        coords, values, base, regions=k, min_points=min_points,
        shrinkage_pairs=shrinkage_pairs, model=region_model, sample=None, seed=seed,
        warn=False) for k in requested]
