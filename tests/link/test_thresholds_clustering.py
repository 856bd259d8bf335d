from __future__ import annotations

import numpy as np
import pytest

from dixian.link.clustering import cluster_edges
from dixian.link.thresholds import choose_thresholds


def test_accept_threshold_meets_the_target_precision() -> None:
    p = np.array([0.999] * 90 + [0.9] * 5 + [0.6] * 5 + [0.05] * 100)
    chosen = choose_thresholds(p, target_precision=0.99, target_recall=0.99)
    accepted = p[p >= chosen.accept]
    assert accepted.mean() >= 0.99
    assert chosen.accept > 0.6  # adding the 0.6 pairs would break the target
    assert chosen.expected_precision == pytest.approx(accepted.mean())
    assert chosen.reject <= chosen.accept
    # The rejected pairs hold at most 1% of the expected matches.
    assert p[p < chosen.reject].sum() <= 0.01 * p.sum() + 1e-9
    stricter = choose_thresholds(p, target_precision=0.999, target_recall=0.99)
    assert stricter.accept >= chosen.accept
    assert stricter.review_pairs >= chosen.review_pairs


def test_thresholds_on_no_pairs() -> None:
    chosen = choose_thresholds(np.array([]), target_precision=0.99, target_recall=0.99)
    assert chosen.accepted_pairs == 0 and chosen.review_pairs == 0
    with pytest.raises(ValueError):
        choose_thresholds(np.array([0.5]), target_precision=0, target_recall=0.5)


def test_clustering_never_joins_two_anchors_and_respects_cannot_link() -> None:
    clusters = cluster_edges(
        ["a", "b", "c", "d", "e", "f"],
        [("a", "b", 0.9), ("b", "c", 0.8), ("c", "d", 0.99), ("d", "e", 0.5)],
        anchors={"a": "P1", "d": "P2"},
        cannot_link=[("e", "c")],
    )
    assert clusters == {"a": "P1", "b": "P1", "c": "P2", "d": "P2", "e": "e", "f": "f"}


def test_clustering_is_independent_of_edge_order() -> None:
    edges = [("x2", "x3", 0.9), ("x1", "x2", 0.95), ("y1", "y2", 0.7)]
    first = cluster_edges(["x1", "x2", "x3", "y1", "y2"], edges)
    second = cluster_edges(["y2", "y1", "x3", "x2", "x1"], list(reversed(edges)))
    assert first == second
    assert first["x3"] == "x1" and first["y2"] == "y1"


def test_a_tie_group_at_the_cut_is_not_accepted_when_it_breaks_the_target() -> None:
    p = np.array([0.99999] * 200 + [0.77] * 300)
    chosen = choose_thresholds(p, target_precision=0.995, target_recall=0.999)
    assert chosen.accept > 0.77
    assert chosen.accepted_pairs == 200
    assert chosen.expected_precision >= 0.995
