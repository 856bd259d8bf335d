"""Staging tables written directly in the ingestion contract's shape, for link tests."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pyarrow as pa

from dixian.config import Workspace
from dixian.engine import open_backend
from tests.link.factories import Person, noisy_copy, population


def write_staging(workspace: Workspace, dataset: str, rows: list[dict[str, Any]]) -> None:
    """Append rows (one dict per record, with `_period`) to `staging_<dataset>`."""
    backend = open_backend(workspace)
    name = f"staging_{dataset}"
    enriched = []
    for number, row in enumerate(rows, start=1):
        period = row["_period"]
        batch = f"{dataset}.{period}.t{len(rows)}"
        enriched.append(
            {
                **row,
                "_record_id": f"{batch}::{number}",
                "_batch_id": batch,
                "_source_file": f"dept/{dataset}/{period}.csv",
                "_sheet": "",
                "_row_number": number,
                "_is_current": True,
            }
        )
    table = pa.Table.from_pylist(enriched)
    for index, field in enumerate(table.schema):
        if pa.types.is_null(field.type):
            table = table.set_column(index, field.name, table.column(index).cast(pa.string()))
    if name in backend.list_tables():
        old = backend.table(name).to_pyarrow()
        table = pa.concat_tables([old, table.select(old.column_names).cast(old.schema)])
    backend.create_table(name, table, overwrite=True)


def registration_rows(people: list[Person], period: str) -> list[dict[str, Any]]:
    rows = []
    for index, person in enumerate(people):
        rows.append(
            {
                "id_number": person.id_number,
                "name": person.name,
                "sex": "M" if person.sex == "1" else "F",
                "birth_date": person.birth,
                "household_number": f"HH{index // 3:05d}",
                "relation_to_head": "head" if index % 3 == 0 else "other",
                "region_code": person.village,
                "address": f"{person.village[-3:]}组{index // 3}号",
                "registration_status": "normal",
                "_period": period,
                "_truth": person.person,
            }
        )
    return rows


def illness_rows(
    people: list[Person], period: str, *, noise: str, rng: random.Random
) -> list[dict[str, Any]]:
    rows = []
    for person in people:
        noisy = noisy_copy(person, noise, rng)
        rows.append(
            {
                "id_number": noisy["id_no"],
                "name": noisy["name"],
                "sex": "M" if person.sex == "1" else "F",
                "birth_date": dt.date.fromisoformat(noisy["dob"] or ""),
                "region_code": person.village,
                "_period": period,
                "_truth": person.person,
            }
        )
    return rows


def county(n: int = 300, *, seed: int = 1) -> list[Person]:
    return population(n, seed=seed)


def truth_of(workspace: Workspace) -> dict[str, str]:
    """_record_id -> true person, from the `_truth` column the helpers add."""
    backend = open_backend(workspace)
    truth: dict[str, str] = {}
    for name in backend.list_tables():
        if name.startswith("staging_"):
            table = backend.table(name).select("_record_id", "_truth").to_pyarrow()
            truth.update(zip(table.column(0).to_pylist(), table.column(1).to_pylist(), strict=True))
    return truth


def person_links(workspace: Workspace) -> dict[str, dict[str, Any]]:
    """_record_id -> its `person_link` row (person_id, match_method, match_probability)."""
    table = (
        open_backend(workspace)
        .table("person_link")
        .select("_record_id", "person_id", "match_method", "match_probability")
        .to_pyarrow()
    )
    return {row.pop("_record_id"): row for row in table.to_pylist()}


__all__ = [
    "county",
    "dt",
    "illness_rows",
    "person_links",
    "registration_rows",
    "truth_of",
    "write_staging",
]
