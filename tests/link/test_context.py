"""Record context: rows without ID number nor birth date linked by their department's context."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from dixian.config import Workspace
from dixian.engine import open_backend
from dixian.link.context import choose_context_fields
from dixian.link.pipeline import link_workspace
from dixian.link.settings import LinkSettings
from tests.link.factories import Person
from tests.link.staging import county, registration_rows, truth_of, write_staging

SETTINGS = LinkSettings(u_sample_pairs=100_000)
MONTHS = [f"2024-{month:02d}" for month in range(1, 13)]


def _pension(person: Person, period: str, *, with_id: bool = True) -> dict[str, Any]:
    return {
        "id_number": person.id_number if with_id else None,
        "name": person.name,
        "region_code": person.village,
        "pension_type": "employee" if person.person.endswith("7") else "resident_basic",
        "monthly_amount": 190.0,
        "payment_month": dt.date.fromisoformat(f"{period}-01"),
        "_period": period,
        "_truth": person.person,
    }


@pytest.fixture
def pension_county(workspace: Workspace) -> tuple[Workspace, dict[str, Person]]:
    people = county(80, seed=11)
    first = people[0]
    # Two namesakes in one village, both drawing a resident's pension; and a lone name.
    twin = dataclasses.replace(people[-1], name=first.name, village=first.village)
    twin_of = {"a": first, "b": twin, "lone": people[2], "first_month": people[3]}
    population = [*people[:-1], twin]
    write_staging(workspace, "household_registration", registration_rows(population, "2024-01"))
    rows: list[dict[str, Any]] = []
    for period in MONTHS:
        for person in [*population[:40], twin]:
            # a's May row and b's August row lost their ID numbers; so did the lone
            # person's March row.
            missing = (
                (person is first and period == "2024-05")
                or (person is twin and period == "2024-08")
                or (person is people[2] and period == "2024-03")
            )
            rows.append(_pension(person, period, with_id=not missing))
    # The same person paid twice in January, the copy without its ID number: its slot is
    # already held by its own person, so context does not decide it.
    rows.append(_pension(people[3], "2024-01", with_id=False))
    write_staging(workspace, "pensions", rows)
    return workspace, twin_of


def test_context_fields_are_the_stable_ones(
    pension_county: tuple[Workspace, dict[str, Person]],
) -> None:
    workspace, _ = pension_county
    fields = choose_context_fields(open_backend(workspace), stability=0.95, min_persons=30)
    assert "pension_type" in fields["pensions"]
    assert "monthly_amount" in fields["pensions"]
    assert "payment_month" not in fields["pensions"]
    # Fewer than 30 ID numbers repeat in the registration (one row each): nothing trusted.
    assert fields["household_registration"] == []


def test_namesakes_rows_without_id_go_to_the_one_with_a_gap(
    pension_county: tuple[Workspace, dict[str, Person]],
) -> None:
    workspace, who = pension_county
    run = link_workspace(workspace, settings=SETTINGS)
    links = open_backend(workspace).table("person_link").to_pyarrow().to_pylist()
    truth = truth_of(workspace)
    by_truth: dict[str, set[str]] = {}
    method_of: dict[tuple[str, str], str] = {}
    for row in links:
        person = truth[row["_record_id"]]
        by_truth.setdefault(person, set()).add(row["person_id"])
        if row["dataset"] == "pensions":
            method_of[(person, row["_record_id"])] = row["match_method"]
    # Every true person is one person_id, and no two true persons share one.
    split = {p: ids for p, ids in by_truth.items() if len(ids) != 1}
    assert not split, (split, method_of)
    assert len({next(iter(ids)) for ids in by_truth.values()}) == len(by_truth)
    context = {person for (person, _record), method in method_of.items() if method == "context"}
    assert {who["a"].person, who["b"].person, who["lone"].person} <= context
    assert who["first_month"].person not in context
    assert run.figures["links_by_method"]["context"] >= 3


def test_one_row_per_person_says_nothing(workspace: Workspace) -> None:
    people = county(60, seed=12)
    namesake = dataclasses.replace(people[-1], name=people[0].name)
    population = [*people[:-1], namesake]
    write_staging(workspace, "household_registration", registration_rows(population, "2024-01"))
    deposits = [
        {
            "id_number": person.id_number if person is not namesake else None,
            "name": person.name,
            "institution": "村镇银行",
            "deposit_balance": 1000.0 + index,
            "securities_value": 0.0,
            "as_of_date": dt.date(2024, 12, 31),
            "_period": "2024",
            "_truth": person.person,
        }
        for index, person in enumerate(population)
    ]
    write_staging(workspace, "deposits", deposits)
    link_workspace(workspace, settings=SETTINGS)
    links = open_backend(workspace).table("person_link").to_pyarrow().to_pylist()
    methods = {row["match_method"] for row in links if row["dataset"] == "deposits"}
    # The namesake's only deposit row has no ID number; the other's row is in the same
    # (only) year, so nothing shows the namesake's row is that person's.
    assert "context" not in methods


def test_registry_row_without_id_is_placed_by_its_household(workspace: Workspace) -> None:
    people = county(60, seed=13)
    # people[4] and a namesake in another household of the same village.
    namesake = dataclasses.replace(
        people[-1], name=people[4].name, sex=people[4].sex, village=people[4].village
    )
    population = [*people[:-1], namesake]
    registration = registration_rows(population, "2024-01")
    write_staging(workspace, "household_registration", registration)
    registry = [
        {
            "registry_household_id": f"R{row['household_number']}",
            "id_number": None if person is people[4] else person.id_number,
            "name": person.name,
            "sex": row["sex"],
            "relation_to_head": row["relation_to_head"],
            "region_code": person.village,
            "_period": "2024-01",
            "_truth": person.person,
        }
        for person, row in zip(population, registration, strict=True)
        if row["household_number"] in {"HH00000", "HH00001", "HH00002"}
    ]
    write_staging(workspace, "poverty_registry", registry)
    link_workspace(workspace, settings=SETTINGS)
    links = open_backend(workspace).table("person_link").to_pyarrow().to_pylist()
    truth = truth_of(workspace)
    person_of: dict[str, set[str]] = {}
    for row in links:
        person_of.setdefault(truth[row["_record_id"]], set()).add(row["person_id"])
    weak = [
        row
        for row in links
        if row["dataset"] == "poverty_registry" and truth[row["_record_id"]] == people[4].person
    ]
    assert [row["match_method"] for row in weak] == ["context"]
    assert len(person_of[people[4].person]) == 1
    assert person_of[people[4].person] != person_of[namesake.person]
