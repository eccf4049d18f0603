"""Choosing among fitted candidates: the small-sample Akaike criterion and parsimony.

Score of a candidate (weighted Gaussian likelihood, K bins, p parameters, its own
weights w_k): AICc = K·ln(RSS/K) − Σ ln w_k + 2p + 2p(p + 1)/(K − p − 1), RSS = Σ w_k r_k².
The −Σ ln w_k term is the likelihood's own (bin k has variance σ²/w_k): it is constant
under common weights but makes ``cressie`` candidates, each weighted by its own curve,
comparable; the score does not change when all weights are scaled. With ~20 bins plain
AIC charges a nested model (p = 5) 1.5 more than a single one (p = 3); AICc charges 4.3.
A candidate with K ≤ p + 1 bins cannot be scored (AICc = inf).

Bins are not independent (pairs share points), so the likelihood is a working one: what
the criterion is good for is ranking candidates fitted to the same bins.
"""

import math

import numpy as np

from geovario.variogram.least_squares import ModelFit

CRITERION = "AICc"
#: Candidates within this much AICc of the best are as good; the simplest of them wins.
PARSIMONY_DELTA = 2.0
SELECTION = (f"AICc; among the candidates within {PARSIMONY_DELTA:g} of the lowest, the one "
             "with the fewest parameters, then the lowest AICc, then the first registered")


def aicc(rss: float, weights: np.ndarray, parameters: int) -> float:
    """AICc of a weighted least-squares fit with ``parameters`` free parameters.

    AICc = K·ln(RSS/K) − Σ ln w_k + 2p + 2p(p + 1)/(K − p − 1) over K bins (see the module
    docstring); inf when K ≤ p + 1.
    """
    k, p = len(weights), parameters
    if k <= p + 1:
        return math.inf
    return (k * math.log(max(rss, 1e-300) / k) - float(np.log(weights).sum())
            + 2 * p + 2 * p * (p + 1) / (k - p - 1))


def select(scored: list[tuple[float, int, ModelFit]]) -> tuple[float, int, ModelFit]:
    """The chosen (AICc, parameters, fit) by ``SELECTION``, candidates in registered order.

    Within ``PARSIMONY_DELTA`` of the lowest AICc the fewest parameters win, then the
    lowest AICc, then the first registered; when no candidate can be scored, the fewest
    parameters, then the lowest RSS.
    """
    finite = [entry for entry in scored if math.isfinite(entry[0])]
    if not finite:
        return min(scored, key=lambda entry: (entry[1], entry[2].rss))
    best = min(entry[0] for entry in finite)
    near = [entry for entry in finite if entry[0] < best + PARSIMONY_DELTA]
    return min(near, key=lambda entry: (entry[1], entry[0]))
