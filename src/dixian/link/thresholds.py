"""Accept and reject thresholds chosen from target precision and recall, not magic numbers.

A Fellegi-Sunter model gives each candidate pair a match probability p. If the model is
calibrated, the expected precision of accepting every pair with p >= t is the mean of p
over those pairs, and the expected number of true matches lost by rejecting every pair
below t is the sum of p below t. `choose_thresholds` takes the lowest accept threshold
whose expected precision meets the target, and the highest reject threshold whose
expected recall loss stays within 1 - target recall; pairs in between go to clerical
review.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Thresholds:
    """Chosen thresholds and what the model expects of them."""

    accept: float
    reject: float
    expected_precision: float
    expected_recall: float
    accepted_pairs: int
    review_pairs: int


def choose_thresholds(
    probabilities: np.ndarray, *, target_precision: float, target_recall: float
) -> Thresholds:
    """Pick accept/reject thresholds on match probabilities.

    Args:
        probabilities: match probability of every scored candidate pair.
        target_precision: expected precision the accepted pairs must reach (e.g. 0.995).
        target_recall: expected share of true matches that must lie at or above the
            reject threshold (accepted or reviewed), e.g. 0.999.

    Returns:
        The thresholds (accept >= reject) and their expected precision and recall.
    """
    if not 0 < target_precision <= 1 or not 0 < target_recall <= 1:
        raise ValueError("target precision and recall must lie in (0, 1]")
    p = np.sort(np.asarray(probabilities, dtype=float))[::-1]
    if p.size == 0:
        return Thresholds(1.0, 1.0, 1.0, 1.0, 0, 0)
    cumulative_mean = np.cumsum(p) / np.arange(1, p.size + 1)
    meets = np.nonzero(cumulative_mean >= target_precision)[0]
    # Take the largest prefix that meets the target. Pairs with equal probability (often
    # hundreds share one comparison vector) are accepted or not together: if the tie group
    # at the cut would break the target, the cut moves above it.
    n_accept = int(meets[-1]) + 1 if meets.size else 0
    accept = float(p[n_accept - 1]) if n_accept else float(np.nextafter(p[0], 2.0))
    if n_accept and p[p >= accept].mean() < target_precision:
        accept = float(np.nextafter(accept, 2.0))
    n_accept = int(np.count_nonzero(p >= accept))
    expected_matches = float(p.sum())
    # Pairs from the bottom are rejected while their summed probability stays within budget.
    budget = (1.0 - target_recall) * expected_matches
    ascending = p[::-1]
    n_reject = int(np.count_nonzero(np.cumsum(ascending) <= budget))
    n_reject = min(n_reject, p.size - n_accept)
    reject = float(ascending[n_reject]) if n_reject < p.size else accept
    reject = min(reject, accept)
    accepted = p[p >= accept]
    review = int(np.count_nonzero((p >= reject) & (p < accept)))
    precision = float(accepted.mean()) if accepted.size else 1.0
    recall = float(p[p >= reject].sum() / expected_matches) if expected_matches else 1.0
    return Thresholds(
        accept=accept,
        reject=reject,
        expected_precision=precision,
        expected_recall=recall,
        accepted_pairs=int(accepted.size),
        review_pairs=review,
    )
