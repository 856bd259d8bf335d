"""Persons before noise: valid ID numbers consistent with birth date, sex and place."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq

from dixian.config import Workspace
from dixian.ids import make_id_number, validate_id_numbers


def test_true_id_numbers_are_valid_unique_and_consistent(small_county: Workspace) -> None:
    persons = pq.read_table(small_county.truth_dir / "persons.parquet")
    ids = persons["id_number"]
    checks = validate_id_numbers(ids)
    assert all(checks["valid"].to_pylist()), checks.filter(pa.compute.invert(checks["valid"]))
    assert len(set(ids.to_pylist())) == persons.num_rows
    for row in persons.slice(0, 300).to_pylist():
        number = row["id_number"]
        birth: dt.date = row["birth_date"]
        assert number[6:14] == birth.strftime("%Y%m%d")
        assert (int(number[16]) % 2 == 1) == (row["sex"] == "M")
        assert make_id_number(number[:6], birth, int(number[14:17])) == number


def test_household_membership_has_one_head_per_household_and_period(
    small_county: Workspace,
) -> None:
    members = pq.read_table(small_county.truth_dir / "household_membership.parquet")
    heads = members.filter(pa.compute.equal(members["relation_to_head"], "head"))
    keys = list(
        zip(heads["period"].to_pylist(), heads["true_household_id"].to_pylist(), strict=True)
    )
    assert len(keys) == len(set(keys))
    households = set(
        zip(members["period"].to_pylist(), members["true_household_id"].to_pylist(), strict=True)
    )
    assert len(set(keys)) >= 0.97 * len(households)
