"""The prepared member lookup gives the source tables' answers, and is not used once stale."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import pytest

from dixian.errors import NotFound
from dixian.policy import load_policy_set
from dixian.verify import Declaration, params_function, verify_application
from dixian.verify.lookup import current_households, members_of
from dixian.verify.member_lookup import (
    LOOKUP_TABLE,
    build_member_lookup,
    declared_rows,
    household_members,
)
from tests.verify.registry import id_number as _id
from tests.verify.registry import registry_warehouse

_PERSONS = [f"k{i}" for i in range(1, 9)]
_PERIODS = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]


def _warehouse(*, ledgers: bool = True) -> Any:
    """k1..k5 in g1 by the January extract, later months carry changes only.

    k3 dies in 2024-03; k4 moves to g2 in 2024-04; k5 moves out in 2024-02 and registers
    again in g1 in 2024-05; k6 is born into g1 in 2024-03; k7 has no ID number; k8 lives in
    g2 and an earlier death of k8 was corrected (not current).
    """
    rows = [("2024-01", "g1", p) for p in _PERSONS[:5]]
    rows += [("2024-04", "g2", "k4"), ("2024-05", "g1", "k5"), ("2024-03", "g1", "k6")]
    rows += [("2024-01", "g1", "k7"), ("2024-01", "g2", "k8")]
    exits = [
        ("k3", "deceased", date(2024, 3, 5), True),
        ("k5", "moved_out", date(2024, 2, 10), True),
        ("k8", "deceased", date(2024, 2, 1), False),
        ("k1", "normal", None, True),
    ]
    return registry_warehouse(_PERSONS, rows, exits, without_id=("k7",), ledgers=ledgers)


def _verify(declaration: Declaration, con: Any) -> Any:
    policy_set = load_policy_set()
    return verify_application(
        declaration,
        policy_set=policy_set,
        params_for_year=params_function(policy_set, "52"),
        backend=con,
    )


def test_lookup_agrees_with_the_source_tables() -> None:
    con = _warehouse()
    assert LOOKUP_TABLE in con.list_tables()
    for household in ("g1", "g2"):
        for period in _PERIODS:
            expected = members_of(con, household, period)
            assert household_members(con, household, period) == expected, (household, period)
    june = household_members(con, "g1", "2024-06")
    assert set(june.values()) == {"k1", "k2", "k5", "k6"}  # k7: no ID number
    assert set(household_members(con, "g2", "2024-06").values()) == {"k4", "k8"}
    rows = declared_rows(con, [_id("k1"), _id("k4")])
    assert rows is not None
    assert current_households(rows, "2024-06") == {"k1": "g1", "k4": "g2"}
    assert current_households(rows, "2024-03") == {"k1": "g1", "k4": "g1"}
    assert declared_rows(con, [_id("k99")]) is None  # nothing found: the source tables decide


def test_a_stale_lookup_is_not_used_until_rebuilt() -> None:
    con = _warehouse()
    assert declared_rows(con, [_id("k1")]) is not None
    # A new batch (k2 dies in April) makes the lookup older than the warehouse.
    con.con.execute("INSERT INTO ingest_batches VALUES (8)")
    con.con.execute(
        "INSERT INTO staging_household_registration "
        "VALUES (?, 'deceased', DATE '2024-04-02', true)",
        [_id("k2")],
    )
    assert declared_rows(con, [_id("k1")]) is None
    assert build_member_lookup(con)
    assert declared_rows(con, [_id("k1")]) is not None
    assert set(household_members(con, "g1", "2024-06").values()) == {"k1", "k5", "k6"}


def test_without_ledgers_there_is_no_lookup() -> None:
    con = _warehouse(ledgers=False)
    assert LOOKUP_TABLE not in con.list_tables()
    assert declared_rows(con, [_id("k1")]) is None


@pytest.mark.parametrize("ledgers", [True, False])
def test_applications_get_the_same_members_either_way(ledgers: bool) -> None:
    """The application's member comparison does not depend on which path answered."""
    con = _warehouse(ledgers=ledgers)
    panel = {
        "household_id": ["g1"],
        "period": ["2024-06"],
        "member_count": [4],
        "income_net_pc": [3000.0],
    }
    con.create_table("household_period", ibis.memtable(panel))
    declaration = Declaration.model_validate(
        {"members": [{"id_number": _id("k1")}, {"id_number": _id("k3")}]}
    )
    result = _verify(declaration, con)
    assert result.household_id == "g1"
    assert result.registered_members == 4
    items = sorted((d.item, str(d.declared or d.recorded)[-4:]) for d in result.discrepancies)
    # k2, k5, k6 registered but not declared; k3 declared but dead since March.
    assert [item for item, _ in items].count("member_not_declared") == 3
    assert [item for item, _ in items].count("member_not_registered") == 1


@pytest.mark.parametrize("ledgers", [True, False])
def test_members_registered_only_after_the_period_are_not_found(ledgers: bool) -> None:
    con = _warehouse(ledgers=ledgers)
    con.create_table(
        "household_period",
        ibis.memtable({"household_id": ["g1"], "period": ["2023-12"], "member_count": [1]}),
    )
    declaration = Declaration.model_validate(
        {"period": "2023-12", "members": [{"id_number": _id("k1")}]}
    )
    with pytest.raises(NotFound):
        _verify(declaration, con)


@pytest.mark.parametrize("ledgers", [True, False])
def test_a_declared_household_gets_the_same_members_either_way(ledgers: bool) -> None:
    """With household_id declared, a fresh lookup answers (its source indexes are not built)."""
    from dixian.verify.lookup import prepare_lookups
    from dixian.verify.member_lookup import lookup_is_fresh

    con = _warehouse(ledgers=ledgers)
    con.create_table(
        "household_period",
        ibis.memtable({"household_id": ["g1"], "period": ["2024-06"], "member_count": [4]}),
    )
    prepared = prepare_lookups(con)
    assert lookup_is_fresh(con) is ledgers
    assert ("verify_idx_membership_household" in prepared) is not ledgers
    assert "verify_idx_persons_id_number" in prepared  # unknown ID numbers stay point queries
    declaration = Declaration.model_validate(
        {"household_id": "g1", "members": [{"id_number": _id("k1")}]}
    )
    result = _verify(declaration, con)
    assert result.registered_members == 4
    undeclared = [d for d in result.discrepancies if d.item == "member_not_declared"]
    assert len(undeclared) == 3  # k2, k5, k6
