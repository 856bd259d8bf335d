"""The panel's single_parent column, from the registered relations to the head."""

from __future__ import annotations

from datetime import date

import ibis

from dixian.features.builder import build_household_period

# household: (person, relation, birth date); ages are taken at 2024-06-30.
HOUSEHOLDS = {
    "couple_with_child": [
        ("a1", "head", date(1985, 1, 1)),
        ("a2", "spouse", date(1986, 1, 1)),
        ("a3", "son", date(2014, 1, 1)),
    ],
    "mother_and_daughter": [("b1", "head", date(1988, 1, 1)), ("b2", "daughter", date(2012, 1, 1))],
    "grandmother_raising": [
        ("c1", "head", date(1955, 1, 1)),
        ("c2", "grandchild", date(2015, 1, 1)),
    ],
    "father_adult_son": [("d1", "head", date(1970, 1, 1)), ("d2", "son", date(2004, 1, 1))],
    "with_own_parent": [
        ("e1", "head", date(1990, 1, 1)),
        ("e2", "parent", date(1960, 1, 1)),
        ("e3", "son", date(2019, 1, 1)),
    ],
    "child_turns_18": [("f1", "head", date(1980, 1, 1)), ("f2", "son", date(2006, 7, 1))],
}


def _warehouse() -> ibis.BaseBackend:
    backend = ibis.duckdb.connect()
    persons = [
        {"person_id": p, "birth_date": b, "region_code": "522799001001"}
        for members in HOUSEHOLDS.values()
        for p, _, b in members
    ]
    backend.create_table(
        "persons",
        ibis.memtable(
            persons, schema={"person_id": "string", "birth_date": "date", "region_code": "string"}
        ),
    )
    membership = [
        {"period": "2024-06", "household_id": h, "person_id": p, "relation_to_head": r}
        for h, members in HOUSEHOLDS.items()
        for p, r, _ in members
    ]
    backend.create_table(
        "household_membership",
        ibis.memtable(
            membership,
            schema={
                "period": "string",
                "household_id": "string",
                "person_id": "string",
                "relation_to_head": "string",
            },
        ),
    )
    return backend


def test_single_parent_is_a_head_without_spouse_with_a_minor_son_or_daughter() -> None:
    backend = _warehouse()
    panel = build_household_period(backend, periods=["2024-06", "2024-07"]).to_pandas()
    june = panel[panel["period"] == "2024-06"]
    flags = dict(zip(june["household_id"], june["single_parent"], strict=True))
    assert flags == {
        "couple_with_child": False,
        "mother_and_daughter": True,
        "grandmother_raising": False,
        "father_adult_son": False,
        "with_own_parent": True,
        "child_turns_18": True,  # 17 at the end of June
    }
    july = panel[panel["period"] == "2024-07"].set_index("household_id")["single_parent"]
    assert not july["child_turns_18"]  # 18 on 1 July
    assert july["mother_and_daughter"]
