"""The linkage review queue (`link_review_queue`, written by `dixian link`), read-only here.

Pairs of records the matcher could neither accept nor reject wait for a person's decision;
the page lists the open ones with their evidence (ID numbers already masked by the linkage
stage) and records decisions through `dixian.link.review.decide_review`, which the next
`dixian link` run applies.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

REVIEW_QUEUE = "link_review_queue"


def open_review_items(path: Path, *, limit: int = 200) -> list[dict[str, Any]] | None:
    """Open queue items, least certain first; None when there is no queue yet."""
    if not path.is_file():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        present = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [REVIEW_QUEUE]
        ).fetchone()
        if not present or not present[0]:
            return None
        rows = con.execute(
            f"SELECT review_id, left_node, right_node, match_probability, evidence "
            f"FROM {REVIEW_QUEUE} WHERE status = 'open' "
            "ORDER BY abs(match_probability - 0.5), review_id LIMIT ?",
            [limit],
        ).fetchall()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return [
        {
            "review_id": review_id,
            "left_node": left,
            "right_node": right,
            "match_probability": probability,
            "evidence": json.loads(evidence) if evidence else [],
        }
        for review_id, left, right, probability, evidence in rows
    ]
