"""The semivariogram-regularised contrastive loss (Chen et al., SIGSPATIAL 2025).

A semivariogram γ(h), fitted on frozen-backbone features, says how dissimilar two images
taken h km apart are *expected* to be. For anchor i and negative candidate j, with h_ij
the distance between their (clean) places, d_ij = 1 − cos(f_i, f_j) their backbone
dissimilarity, sill = n + s, effective range ρ (the practical range) and σ(h) the
per-lag spread of d (standard deviation of d among the pairs of h's bin):

- residual r_ij = (γ(h_ij) − d_ij) / scale, positive when the pair looks more alike than
  expected at that distance; scale is the sill (default) or σ(h_ij), so one strength
  means the same on every backbone;
- hard negative: h_ij > ρ and γ(h_ij) − d_ij > m·σ(h_ij) (alike beyond the ordinary
  scatter of far pairs, margin m = ``hard_margin``) → weight
  w = min(exp(β·(r_ij − r_m)), w_max) ≥ 1, r_m the margin in residual units: monotone in
  r, bounded, and continuous at the margin. With the default m = 0 about half of all far
  pairs count as hard (γ ≈ sill ≈ their mean dissimilarity), weighted by how much more
  alike they are than expected; m = 1 keeps about one in six, for Gaussian scatter, and
  measured worse (benchmarks/RESULTS.md, "Evidence");
- false negative: h_ij ≤ ρ and r_ij ≥ 0 (near and as alike as expected), by how much
  t_ij = min(1, r_ij / δ), a ramp of width δ = ``false_ramp`` residual units (so nothing
  jumps as d crosses γ(h), as the hard side starts at 1 at its margin) → with
  ``false_negatives="downweight"`` w = 1 − λ·c(h_ij)·t_ij, c = 1 − γ(h)/sill the spatial
  correlation; with ``"soft-positive"`` w = 1 but the pair receives target mass
  λ·c·t, scaled down where needed so that all false negatives of an anchor share at most
  min(λ, ``SOFT_POSITIVE_MAX_SHARE`` = ½): its own location keeps at least
  1 − min(λ, ½) ≥ ½ of the target (targets ≥ 0, summing to 1); with ``"none"`` it is
  left alone;
- every other pair: w = 1.

Loss: L_i = −Σ_j q_ij log softmax(s_i + log w_i)_j, i.e. with one-hot targets
L_i = −log(e^{s_ii} / (e^{s_ii} + Σ_j w_ij e^{s_ij})). Weights and targets carry no
gradient; with every w = 1 and one-hot targets it is exactly GeoCLIP's InfoNCE.

``rule="prototype"`` is the first author's April 2025 prototype instead: within *its*
range (the first distance where the fitted model's slope falls below 0.01 per radian,
``FittedVariogram.slope_range_km``), p_ij = max(0, d_ij − γ(h_ij)) and the negative's
logit is *multiplied* by exp(p_ij); beyond it nothing changes.

With a region-wise variogram (:class:`~geovario.variogram.regional.RegionalVariogram`)
every quantity above that comes from the fit (γ, sill, range ρ, the slope range, the
correlation c, the per-lag spread σ(h)) is that of the anchor's region, the anchor being
the image whose own location is the positive. A region's σ(h) is the spread of d among
the pairs anchored in it, shrunk toward the global spread as its γ is (its shrunk bins;
the global σ where a region has no bins of its own). Why not the global σ: the residual
is centred on the region's curve, and a global bin's spread also holds how the regions'
means differ (its variance is the regions' mean variance plus the variance of their
means), the very differences the regional curves take out; dividing by it would count
them twice and find fewer hard negatives in a homogeneous region than in a varied one.

Until the feature queue has been filled once, the loss is plain InfoNCE (warm-up).
Pair terms are computed in float32 with autocast off, whatever the caller's context.
"""

from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F

from geovario.errors import GeovarioError
from geovario.geo.distance import chord_to_km, unit_vectors_torch
from geovario.losses.base import LOSSES, ContrastiveInputs, VariogramGuidedLoss
from geovario.losses.options import SemivariogramOptions, make_options
from geovario.variogram.fitted import FittedVariogram
from geovario.variogram.regional import AnchorCurves, RegionalVariogram, as_regional

#: Soft-positive: the most target mass an anchor's false negatives share, whatever λ.
SOFT_POSITIVE_MAX_SHARE = 0.5
#: The paper (Chen et al., SIGSPATIAL 2025), tagged on the Hub for runs of this loss.
PAPER_ARXIV = "2509.21573"


@LOSSES.register("semivariogram")
class SemivariogramContrastiveLoss(VariogramGuidedLoss):
    """Weighted InfoNCE whose negative weights come from a fitted semivariogram.

    Options come as a :class:`~geovario.losses.options.SemivariogramOptions`, as keywords
    (``hard_strength=1.0``), or both (keywords override).
    """

    needs_features = True
    options_class = SemivariogramOptions
    card_tags = ("semivariogram", f"arxiv:{PAPER_ARXIV}")
    card_text = ("The loss finds hard and false negatives on a semivariogram of feature "
                 "dissimilarity against distance, as in *Enhancing Contrastive Learning for "
                 "Geolocalization by Discovering Hard Negatives on Semivariograms* (Chen, "
                 "Wang, Deuser, Zollner, Werner; SIGSPATIAL 2025, "
                 f"[arXiv:{PAPER_ARXIV}](https://arxiv.org/abs/{PAPER_ARXIV})).")

    def __init__(self, variogram: FittedVariogram | RegionalVariogram,
                 options: SemivariogramOptions | None = None, **overrides):
        if options is None:
            options = make_options(SemivariogramOptions, overrides, "semivariogram")
        elif overrides:
            options = replace(options, **overrides)
        if variogram.dissimilarity != "cosine":
            raise GeovarioError(f"loss: the variogram was fitted on {variogram.dissimilarity!r} "
                                "dissimilarity; the loss compares images by cosine")
        if (options.residual_scale == "spread" or options.hard_margin > 0) \
                and variogram.empirical is None:
            raise GeovarioError("loss: residual_scale 'spread' and hard_margin > 0 need a "
                                "variogram file with its empirical bins")
        self.options = options
        self.hard_strength, self.max_weight = options.hard_strength, options.max_weight
        self.hard_margin = options.hard_margin
        self.false_negatives, self.false_strength = options.false_negatives, \
            options.false_strength
        self.false_ramp = options.false_ramp
        self.rule, self.residual_scale = options.rule, options.residual_scale
        super().__init__(variogram)

    def set_variogram(self, variogram: FittedVariogram | RegionalVariogram) -> None:
        """Use another fitted variogram from now on (a refit), with the ranges it implies."""
        super().set_variogram(variogram)
        #: Global or region-wise, the curves come per anchor through one interface.
        self.curves = as_regional(variogram)
        #: The range that separates near from far pairs under the chosen rule.
        self.range_km = (variogram.slope_range_km() if self.rule == "prototype"
                         else variogram.range_km)
        if variogram.empirical is not None:
            # σ(h) of each distinct curve: its own bins' spread, else the global fit's.
            glob = _spread_table(variogram)
            self._spread_tables = [_spread_table(fit) or glob
                                   for fit in self.curves.distinct_fits]

    def settings(self) -> dict[str, float | str]:
        """The rule, its range in km and the strengths: what the training log states."""
        return {"rule": self.rule, "range_km": self.range_km,
                "range_definition": "slope below 0.01 per radian" if self.rule == "prototype"
                else "practical range (95 % of the partial sill)",
                "hard_strength": self.hard_strength, "max_weight": self.max_weight,
                "hard_margin": self.hard_margin, "false_negatives": self.false_negatives,
                "false_strength": self.false_strength, "false_ramp": self.false_ramp,
                "soft_positive_max_share": SOFT_POSITIVE_MAX_SHARE,
                "range_bound": self.variogram.range_bound or "none",
                **self._region_settings()}

    def _region_settings(self) -> dict[str, float | int]:
        """For a region-wise variogram: K and the shortest and longest regional range.

        ``range_km`` stays the global curve's; each region's range is in the run's copy of
        the variogram file.
        """
        if not self.curves.regions:
            return {}
        ranges = [r.fitted.slope_range_km() if self.rule == "prototype" else r.fitted.range_km
                  for r in self.curves.regions]
        return {"regions": len(ranges), "region_range_min_km": min(ranges),
                "region_range_max_km": max(ranges)}

    def expected_dissimilarity(self, h_km: torch.Tensor,
                               anchor_coords: torch.Tensor | None = None) -> torch.Tensor:
        """γ(h): the dissimilarity expected of two images h km apart (rows: anchors)."""
        if anchor_coords is None:
            return self.variogram.gamma(h_km)
        return self.curves.for_anchors(anchor_coords).gamma(h_km)

    def _spread(self, h_km: torch.Tensor, curves: AnchorCurves) -> torch.Tensor:
        """σ(h) of each anchor's curve (rows of h); one curve: its table for every row."""
        if curves.rows is None:
            return _interpolated_spread(h_km, self._spread_tables[0])
        out = h_km.new_empty(h_km.shape)
        for group, table in enumerate(self._spread_tables):
            index = (curves.rows == group).nonzero().squeeze(1)
            if len(index):
                out.index_copy_(0, index, _interpolated_spread(h_km.index_select(0, index),
                                                               table))
        return out

    @torch.no_grad()
    def pair_terms(self, inputs: ContrastiveInputs) -> tuple[torch.Tensor, ...]:
        """Distance h (km), dissimilarity d, γ(h) of every anchor–candidate pair; the curves.

        Float32 throughout, autocast off: distances go through exact coordinate differences
        of unit vectors (no cancellation at short range), dissimilarities through one
        product.
        """
        with torch.autocast(inputs.targets.device.type, enabled=False):
            return self._pair_terms(inputs)

    def _pair_terms(self, inputs: ContrastiveInputs) -> tuple[torch.Tensor, ...]:
        ua = unit_vectors_torch(inputs.anchor_coords.double()).float()
        uc = unit_vectors_torch(inputs.candidate_coords.double()).float()
        h = chord_to_km(torch.cdist(ua, uc, compute_mode="donot_use_mm_for_euclid_dist"))
        fa = F.normalize(inputs.anchor_features.float(), dim=-1)
        fc = F.normalize(inputs.candidate_features.float(), dim=-1)
        d = 1.0 - fa @ fc.T
        curves = self.curves.for_anchors(inputs.anchor_coords)
        return h, d, curves.gamma(h), curves

    def _near_range(self, curves: AnchorCurves):
        """The range of each anchor's curve under the rule (a float for one curve)."""
        return curves.slope_range_km if self.rule == "prototype" else curves.range_km

    @torch.no_grad()
    def weights_and_targets(self, inputs: ContrastiveInputs,
                            shape: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-pair weights w (B, C) and target distribution q (B, C); no gradient."""
        h, d, gamma, curves = self.pair_terms(inputs)
        positive = F.one_hot(inputs.targets, shape[1]).bool()
        negative = ~positive
        weights = torch.ones(shape, device=h.device)
        targets = positive.float()
        spread = self._spread(h, curves) \
            if self.hard_margin > 0 or self.residual_scale == "spread" else None
        scale = curves.sill if self.residual_scale == "sill" else spread
        residual = (gamma - d) / scale
        margin = self.hard_margin * spread / scale if self.hard_margin > 0 else 0.0
        within = h <= self._near_range(curves)
        hard = negative & ~within & (residual > margin)
        false = negative & within & (residual >= 0)
        boost = torch.exp(self.hard_strength * (residual - margin)).clamp(max=self.max_weight)
        weights = torch.where(hard, boost, weights)
        correlation = (1.0 - gamma / curves.sill).clamp(0, 1)  # of the anchor's curve
        ramp = (residual / self.false_ramp).clamp(0, 1)
        share = torch.where(false, self.false_strength * correlation * ramp, torch.zeros_like(h))
        if self.false_negatives == "downweight":
            weights = torch.where(false, 1.0 - share, weights)
        elif self.false_negatives == "soft-positive":
            # All false negatives of an anchor share at most min(λ, ½) of its target.
            cap = min(self.false_strength, SOFT_POSITIVE_MAX_SHARE)
            total = share.sum(dim=1, keepdim=True)
            share = share * torch.where(total > cap, cap / total.clamp_min(1e-30), 1.0)
            own = (1.0 - share.sum(dim=1, keepdim=True)).clamp_min(1.0 - cap)
            targets = torch.where(positive, own, share)
        self._record(hard, false, weights, targets, negative, within)
        return weights, targets

    def _record(self, hard, false, weights, targets, negative, within) -> None:
        n = max(int(negative.sum()), 1)
        far = max(int((negative & ~within).sum()), 1)
        self.last_stats = {
            "hard_share": float(hard.sum()) / n,
            "hard_share_of_far": float(hard.sum()) / far,
            "false_share": float(false.sum()) / n,
            "hard_mean_weight": float(weights[hard].mean()) if hard.any() else 1.0,
            "false_mean_weight": float(weights[false].mean()) if false.any() else 1.0,
            "own_target": float(targets[~negative].mean()),
        }

    def forward(self, logits: torch.Tensor, inputs: ContrastiveInputs) -> torch.Tensor:
        """Mean over anchors of the weighted InfoNCE (float32 whatever the logits' dtype)."""
        logits = logits.float()
        if not inputs.queue_full or inputs.anchor_features is None:
            self.last_stats = {"hard_share": 0.0, "false_share": 0.0, "warmup": 1.0}
            return F.cross_entropy(logits, inputs.targets)
        if self.rule == "prototype":
            return F.cross_entropy(self.prototype_logits(logits, inputs), inputs.targets)
        weights, targets = self.weights_and_targets(inputs, tuple(logits.shape))
        log_w = torch.log(weights.float().clamp_min(1e-30))
        log_probs = torch.log_softmax(logits + log_w, dim=1)
        return -(targets.float() * log_probs).sum(dim=1).mean()

    def prototype_logits(self, logits: torch.Tensor, inputs: ContrastiveInputs) -> torch.Tensor:
        """The prototype's rule: negatives' logits × exp(max(0, d − γ(h))) within the range."""
        with torch.no_grad():
            h, d, gamma, curves = self.pair_terms(inputs)
            negative = ~F.one_hot(inputs.targets, logits.shape[1]).bool()
            within = h <= self._near_range(curves)
            penalty = torch.where(negative & within, (d - gamma).clamp(min=0.0),
                                  torch.zeros_like(d))
            factor = torch.exp(penalty).float()
            self.last_stats = {"penalised_share": float((penalty > 0).sum()) /
                               max(int(negative.sum()), 1),
                               "mean_factor": float(factor[negative].mean())}
        return logits * factor


def _spread_table(fit) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(lags, spreads) of the bins a fit used (``min_pairs`` pairs or more); None without 2.

    A spread from a handful of pairs is noise, and interpolation needs two lags.
    """
    emp = fit.empirical
    if emp is None:
        return None
    ok = np.isfinite(emp.spread) & (emp.pairs >= max(fit.min_pairs, 1))
    if ok.sum() < 2:
        return None
    return torch.as_tensor(emp.lag_km[ok]), torch.as_tensor(emp.spread[ok])


def _interpolated_spread(h_km: torch.Tensor, table) -> torch.Tensor:
    """σ(h): the per-bin spread of d, interpolated linearly between the bins' lags."""
    lags, spread = (t.to(h_km.device, h_km.dtype) for t in table)
    index = torch.bucketize(h_km, lags).clamp(1, len(lags) - 1)
    lo, hi = lags[index - 1], lags[index]
    t = ((h_km - lo) / (hi - lo)).clamp(0, 1)
    return (spread[index - 1] + t * (spread[index] - spread[index - 1])).clamp_min(1e-6)
