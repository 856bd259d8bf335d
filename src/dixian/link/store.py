"""The link tables in the warehouse (names are cross-stage contracts)."""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir
import pyarrow as pa

PERSON_LINK = "person_link"
PERSONS = "persons"
HOUSEHOLD_MEMBERSHIP = "household_membership"
HOUSEHOLD_DISCREPANCIES = "household_discrepancies"
HOUSEHOLD_CHANGES = "household_changes"
REVIEW_QUEUE = "link_review_queue"
LINK_PROFILES = "link_profiles"
ID_REPAIRS = "id_repairs"
LINK_RUNS = "link_runs"


def read_table_or_none(backend: Any, name: str) -> pa.Table | None:
    """A warehouse table as Arrow, or None when it does not exist."""
    if name not in backend.list_tables():
        return None
    table: pa.Table = backend.table(name).to_pyarrow()
    return table


def write_table(backend: Any, name: str, table: pa.Table | ir.Table) -> None:
    """Create or replace a warehouse table."""
    backend.create_table(name, table, overwrite=True)


def write_person_link(backend: Any, records: ir.Table) -> None:
    """`person_link`: every current record with the person of its identity profile.

    Columns (contract): `_record_id`, `dataset`, `person_id`, `match_method`,
    `match_probability`; plus the record's lineage (`_source_file`, `_sheet`,
    `_row_number`, `_period`) and `profile_id` for evaluation and audit.
    """
    profiles = backend.table(LINK_PROFILES)
    joined = records.join(profiles, records.profile_key == profiles.profile_key, how="inner")
    selected = joined.select(
        _record_id=records["_record_id"],
        dataset=records["dataset"],
        person_id=profiles["person_id"],
        match_method=profiles["match_method"],
        match_probability=profiles["match_probability"],
        profile_id=profiles["profile_id"],
        _source_file=records["_source_file"],
        _sheet=records["_sheet"],
        _row_number=records["_row_number"],
        _period=records["_period"],
    )
    write_table(backend, PERSON_LINK, selected)
