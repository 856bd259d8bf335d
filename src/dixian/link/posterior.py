"""Posterior that a new record belongs to a known person, given all its candidates.

Splink scores each pair on its own, with a prior that any two records match
(about 1 / number of persons). For a record compared with the register of known persons
that ignores two facts: the record belongs to at most one of them, and most records do
belong to someone. With Bayes factors BF_j of the record's candidate persons j (from the
pairwise match weights), N known persons and a share pi of records that belong to a known
person, the posterior that the record is person j is

    P(j) = (pi / N) * BF_j / ((pi / N) * sum_k BF_k + (1 - pi))

so two equally good candidates share the probability, and a lone good candidate is not
held down by the 1 / N prior. pi is estimated by EM over the records (the expected share
that belongs to someone), not set by hand.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def exclusive_posterior(
    pairs: pa.Table,
    *,
    prior: float,
    n_persons: int,
    person_source: str = "person",
    iterations: int = 50,
) -> tuple[np.ndarray, float]:
    """Re-score record–person pairs with the one-person-per-record posterior.

    Args:
        pairs: scored pairs (node_id_l/r, source_l/r, match_weight, match_probability).
        prior: the pairwise prior Splink used (probability two nodes match).
        n_persons: number of known persons compared against.
        person_source: the `source` value of person nodes.
        iterations: at most this many EM steps for pi.

    Returns:
        The new probability of every pair (record–record pairs unchanged) and pi.
    """
    probabilities = pairs.column("match_probability").to_numpy(zero_copy_only=False).copy()
    if pairs.num_rows == 0 or n_persons == 0:
        return probabilities, 0.0
    left_person = pc.equal(pairs.column("source_l"), person_source).to_numpy(zero_copy_only=False)
    right_person = pc.equal(pairs.column("source_r"), person_source).to_numpy(zero_copy_only=False)
    mixed = left_person ^ right_person
    if not mixed.any():
        return probabilities, 0.0
    left = np.asarray(pairs.column("node_id_l").to_pylist(), dtype=object)
    right = np.asarray(pairs.column("node_id_r").to_pylist(), dtype=object)
    record = np.where(left_person, right, left)[mixed]
    weights = pairs.column("match_weight").to_numpy(zero_copy_only=False)[mixed]
    prior_weight = np.log2(prior / (1 - prior))
    log2_bayes = np.clip(weights - prior_weight, -200, 200)
    bayes = np.exp2(log2_bayes)
    records, index = np.unique(record, return_inverse=True)
    total = np.bincount(index, weights=bayes, minlength=records.size)
    pi = 0.5
    for _ in range(iterations):
        scaled = pi / n_persons * total
        updated = float(np.clip((scaled / (scaled + 1 - pi)).mean(), 0.01, 0.999))
        if abs(updated - pi) < 1e-6:
            pi = updated
            break
        pi = updated
    scaled_total = pi / n_persons * total
    posterior = (pi / n_persons * bayes) / (scaled_total[index] + (1 - pi))
    probabilities[mixed] = posterior
    return probabilities, pi
