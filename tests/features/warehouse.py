"""Small warehouse tables written inline for the panel tests: what linkage and ingestion
would have left (persons, household membership, person links, staged department rows)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import ibis

LINK_SCHEMA = {
    "_record_id": "string",
    "dataset": "string",
    "person_id": "string",
    "match_method": "string",
    "match_probability": "float64",
}
MEMBERSHIP_SCHEMA = {
    "period": "string",
    "household_id": "string",
    "person_id": "string",
    "relation_to_head": "string",
}


def write_table(
    backend: Any, name: str, rows: list[dict[str, Any]], schema: dict[str, str]
) -> None:
    """Create (or replace) a table from rows with an explicit schema."""
    backend.create_table(name, ibis.memtable(rows, schema=schema), overwrite=True)


def write_staged(
    backend: Any, dataset: str, rows: list[dict[str, Any]], schema: dict[str, str]
) -> None:
    """`staging_<dataset>`: the rows (each with its `_record_id`), all current."""
    full = {"_record_id": "string", "_is_current": "boolean", **schema}
    staged = [{"_is_current": True, **row} for row in rows]
    write_table(backend, f"staging_{dataset}", staged, full)


def write_persons(backend: Any, persons: Iterable[tuple[str, date, str]]) -> None:
    """`persons` from (person_id, birth_date, region_code)."""
    write_table(
        backend,
        "persons",
        [{"person_id": p, "birth_date": b, "region_code": r} for p, b, r in persons],
        {"person_id": "string", "birth_date": "date", "region_code": "string"},
    )


def write_membership(backend: Any, rows: Iterable[tuple[str, str, str, str]]) -> None:
    """`household_membership` from (period, household_id, person_id, relation_to_head)."""
    write_table(
        backend,
        "household_membership",
        [dict(zip(MEMBERSHIP_SCHEMA, row, strict=True)) for row in rows],
        MEMBERSHIP_SCHEMA,
    )


def write_links(backend: Any, links: Iterable[tuple[str, str, str]]) -> None:
    """`person_link` from (record id, dataset, person_id), each an exact ID match."""
    write_table(
        backend,
        "person_link",
        [
            {
                "_record_id": record,
                "dataset": dataset,
                "person_id": person,
                "match_method": "id",
                "match_probability": 1.0,
            }
            for record, dataset, person in links
        ],
        LINK_SCHEMA,
    )


def panel_rows(backend: Any, periods: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """The panel built over `backend` for `periods`, one dict per (household_id, period)."""
    from dixian.features.builder import build_household_period

    frame = build_household_period(backend, periods=periods).to_pandas()
    return {(r["household_id"], r["period"]): r for r in frame.to_dict("records")}
