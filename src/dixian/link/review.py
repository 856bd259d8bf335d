"""The clerical review queue (人工复核) of uncertain pairs, and reviewers' decisions.

Pairs scored between the reject and accept thresholds are stored in `link_review_queue`
with the comparison evidence (each comparison's level and both values, ID numbers
masked). A reviewer decides `match` or `non_match`; the next `dixian link` run reopens the
profiles concerned and applies the decision as a must-link or cannot-link constraint, and
every later run keeps applying it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from dixian.config import Workspace
from dixian.engine import open_backend
from dixian.errors import NotFound, TransitionRefused, UserError
from dixian.ids import mask_id_number
from dixian.link.resolve import DECISION_REVIEW, Resolution
from dixian.link.store import REVIEW_QUEUE, read_table_or_none, write_table

DECISIONS = ("match", "non_match")
REVIEW_SCHEMA = pa.schema(
    [
        ("review_id", pa.string()),
        ("left_node", pa.string()),
        ("right_node", pa.string()),
        ("match_probability", pa.float64()),
        ("evidence", pa.string()),
        ("status", pa.string()),
        ("decided_by", pa.string()),
        ("decided_at", pa.timestamp("us", tz="UTC")),
        ("created_run", pa.string()),
        ("applied", pa.bool_()),
    ]
)
# Comparison -> the matching column shown as evidence.
_EVIDENCE = {
    "name": "name_key",
    "birth_date": "birth_str",
    "sex": "sex",
    "id_number": "id_number",
    "region_code": "region_code",
    "address": "address",
}


def review_id(left: str, right: str) -> str:
    """Stable id of a pair (order-independent)."""
    a, b = sorted((left, right))
    return hashlib.sha256(f"{a}|{b}".encode()).hexdigest()[:16]


def build_review_items(resolution: Resolution, *, run_id: str) -> pa.Table:
    """The review-band pairs of a resolution as queue rows with their evidence."""
    pairs = resolution.pairs.filter(pc.equal(resolution.pairs.column("decision"), DECISION_REVIEW))
    rows: list[dict[str, Any]] = []
    for pair in pairs.to_pylist():
        evidence = []
        for comparison, column in _EVIDENCE.items():
            gamma = pair.get(f"gamma_{comparison}")
            if gamma is None:
                continue
            left, right = pair.get(f"{column}_l"), pair.get(f"{column}_r")
            if comparison == "id_number":
                left, right = mask_id_number(left), mask_id_number(right)
            evidence.append(
                {
                    "comparison": comparison,
                    "level": resolution.level_labels.get(comparison, {}).get(int(gamma), ""),
                    "left": left,
                    "right": right,
                }
            )
        rows.append(
            {
                "review_id": review_id(pair["node_id_l"], pair["node_id_r"]),
                "left_node": pair["node_id_l"],
                "right_node": pair["node_id_r"],
                "match_probability": float(pair["match_probability"]),
                "evidence": json.dumps(evidence, ensure_ascii=False),
                "status": "open",
                "decided_by": None,
                "decided_at": None,
                "created_run": run_id,
                "applied": False,
            }
        )
    return pa.Table.from_pylist(rows, schema=REVIEW_SCHEMA)


def load_review_queue(backend: Any) -> pa.Table | None:
    """The stored queue, or None before the first run."""
    table = read_table_or_none(backend, REVIEW_QUEUE)
    return None if table is None else table.cast(REVIEW_SCHEMA)


def merge_review_queue(old: pa.Table | None, new: pa.Table | None, *, keep_open: bool) -> pa.Table:
    """Decided items stay (now applied); open items are refreshed by this run's pairs.

    Args:
        old: the queue before the run.
        new: this run's review-band pairs.
        keep_open: keep earlier open items this run did not score again (an incremental
            run scores only new records); a full run replaces them.
    """
    rows: dict[str, dict[str, Any]] = {}
    for item in [] if old is None else old.to_pylist():
        if item["status"] != "open":
            item["applied"] = True
        elif not keep_open:
            continue
        rows[item["review_id"]] = item
    for item in [] if new is None else new.to_pylist():
        existing = rows.get(item["review_id"])
        if existing is None or existing["status"] == "open":
            rows[item["review_id"]] = item
    return pa.Table.from_pylist(list(rows.values()), schema=REVIEW_SCHEMA)


def decide_review(
    workspace: Workspace, item_id: str, *, decision: str, reviewer: str
) -> dict[str, Any]:
    """Record a reviewer's decision on a queued pair; the next `dixian link` applies it.

    Args:
        workspace: the workspace.
        item_id: the queue item's `review_id`.
        decision: "match" or "non_match".
        reviewer: who decided (user name), kept with the decision.

    Returns:
        The updated queue item.

    Raises:
        UserError: an unknown decision.
        NotFound: no such item.
        TransitionRefused: the item was already decided.
    """
    if decision not in DECISIONS:
        raise UserError(f"decision: expected one of {DECISIONS}, got '{decision}'")
    backend = open_backend(workspace)
    queue = load_review_queue(backend)
    rows = [] if queue is None else queue.to_pylist()
    for item in rows:
        if item["review_id"] == item_id:
            if item["status"] != "open":
                raise TransitionRefused(
                    f"review item {item_id} was already decided ({item['status']})"
                )
            item.update(
                status=decision,
                decided_by=reviewer,
                decided_at=datetime.now(UTC),
                applied=False,
            )
            write_table(backend, REVIEW_QUEUE, pa.Table.from_pylist(rows, schema=REVIEW_SCHEMA))
            decided: dict[str, Any] = item
            return decided
    raise NotFound(f"review item {item_id} not found in {REVIEW_QUEUE}")
