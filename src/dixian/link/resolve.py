"""Score, threshold and cluster: the resolution step `dixian link` and `dixian match` share."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dixian.link.clustering import cluster_edges
from dixian.link.matcher import Matcher, MatcherOptions
from dixian.link.posterior import exclusive_posterior
from dixian.link.thresholds import Thresholds, choose_thresholds

DECISION_ACCEPT = "accept"
DECISION_REVIEW = "review"
DECISION_REJECT = "reject"


@dataclass
class Resolution:
    """What a resolution run produced.

    Attributes:
        pairs: scored pairs with a `decision` column (accept/review/reject; reviewer
            decisions override the model as accept/reject with `reviewed` true).
        clusters: node id -> cluster id (an anchor, or the smallest node id).
        thresholds: the accept and reject thresholds and their expected precision/recall.
        model: the Splink model used (JSON-serialisable).
        level_labels: comparison -> gamma value -> label, for evidence.
    """

    pairs: pa.Table
    clusters: dict[str, str]
    thresholds: Thresholds
    model: dict[str, Any]
    level_labels: dict[str, dict[int, str]]


def resolve(
    nodes: pa.Table,
    *,
    options: MatcherOptions,
    target_precision: float,
    target_recall: float,
    pair_filter: str | None = None,
    model: dict[str, Any] | None = None,
    anchors: dict[str, str] | None = None,
    must_link: Iterable[tuple[str, str]] = (),
    cannot_link: Iterable[tuple[str, str]] = (),
    prior: float | None = None,
    exclusive_persons: int | None = None,
    frequencies_from: pa.Table | None = None,
) -> Resolution:
    """Train (unless a model is given), score, choose thresholds and cluster.

    Args:
        nodes: a prepared node table (`dixian.link.prepare.prepare_nodes`).
        options: matcher options (engine, flavour, sampling).
        target_precision: expected precision of accepted pairs.
        target_recall: expected share of true pairs kept for acceptance or review.
        pair_filter: SQL condition every candidate pair must meet.
        model: a trained Splink model to reuse (its match prior is re-estimated here).
        anchors: node -> fixed identity; two anchors never merge.
        must_link: node pairs a reviewer matched.
        cannot_link: node pairs a reviewer declared different.
        prior: the probability that two nodes of this table match, when the caller knows
            it better than a deterministic-rule estimate (default: estimated).
        exclusive_persons: when the table holds this many known persons (source
            "person"), record–person pairs are re-scored with the one-person-per-record
            posterior (`dixian.link.posterior`).
        frequencies_from: the population whose name frequencies the term-frequency
            adjustment uses (default: the node table itself).

    Returns:
        The resolution.
    """
    must = {(min(a, b), max(a, b)) for a, b in must_link}
    cannot = {(min(a, b), max(a, b)) for a, b in cannot_link}
    if nodes.num_rows < 2:
        clusters = cluster_edges(nodes.column("node_id").to_pylist(), [], anchors=anchors)
        return Resolution(
            _empty_pairs(),
            clusters,
            choose_thresholds(
                np.array([]), target_precision=target_precision, target_recall=target_recall
            ),
            model or {},
            {},
        )
    matcher = Matcher(
        nodes,
        options=options,
        pair_filter=pair_filter,
        model=model,
        frequencies_from=frequencies_from,
    )
    used_model = matcher.train() if model is None else model
    if prior is not None:
        matcher.set_prior(prior)
    elif model is not None:
        matcher.set_prior_from_data()
    pairs = matcher.predict()
    labels = matcher.level_labels()
    probabilities = pairs.column("match_probability").to_numpy(zero_copy_only=False)
    if exclusive_persons:
        used_prior = matcher.linker._settings_obj._probability_two_random_records_match
        probabilities, _share = exclusive_posterior(
            pairs, prior=used_prior, n_persons=exclusive_persons
        )
        pairs = pairs.set_column(
            pairs.column_names.index("match_probability"),
            "match_probability",
            pa.array(probabilities, pa.float64()),
        )
    thresholds = choose_thresholds(
        probabilities, target_precision=target_precision, target_recall=target_recall
    )
    left = pairs.column("node_id_l").to_pylist()
    right = pairs.column("node_id_r").to_pylist()
    decisions: list[str] = []
    reviewed: list[bool] = []
    for a, b, p in zip(left, right, probabilities, strict=True):
        key = (a, b) if a <= b else (b, a)
        if key in must:
            decisions.append(DECISION_ACCEPT)
            reviewed.append(True)
        elif key in cannot:
            decisions.append(DECISION_REJECT)
            reviewed.append(True)
        else:
            decisions.append(
                DECISION_ACCEPT
                if p >= thresholds.accept
                else DECISION_REVIEW
                if p >= thresholds.reject
                else DECISION_REJECT
            )
            reviewed.append(False)
    pairs = pairs.append_column("decision", pa.array(decisions, pa.string()))
    pairs = pairs.append_column("reviewed", pa.array(reviewed, pa.bool_()))
    accepted = pc.equal(pairs.column("decision"), DECISION_ACCEPT)
    edges = [
        (a, b, float(p))
        for a, b, p, keep in zip(left, right, probabilities, accepted.to_pylist(), strict=True)
        if keep
    ]
    edges += [(a, b, 1.0) for a, b in must]
    clusters = cluster_edges(
        nodes.column("node_id").to_pylist(), edges, anchors=anchors, cannot_link=cannot
    )
    return Resolution(pairs, clusters, thresholds, used_model, labels)


def _empty_pairs() -> pa.Table:
    return pa.table(
        {
            "node_id_l": pa.array([], pa.string()),
            "node_id_r": pa.array([], pa.string()),
            "source_l": pa.array([], pa.string()),
            "source_r": pa.array([], pa.string()),
            "match_probability": pa.array([], pa.float64()),
            "match_weight": pa.array([], pa.float64()),
            "decision": pa.array([], pa.string()),
            "reviewed": pa.array([], pa.bool_()),
        }
    )
