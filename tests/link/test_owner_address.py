"""A register row with a name and an address but no ID number: placed by the owner's address."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from dixian.config import Workspace
from dixian.engine import open_backend
from dixian.link.comparisons import blocking_keys
from dixian.link.pipeline import link_workspace
from dixian.link.settings import LinkSettings
from tests.link.factories import Person
from tests.link.staging import county, registration_rows, truth_of, write_staging

SETTINGS = LinkSettings(u_sample_pairs=100_000)


def _vehicle(
    person: Person, index: int, *, with_id: bool, name: str, address: str | None
) -> dict[str, Any]:
    return {
        "plate_number": f"贵A{index:05d}",
        "owner_id_number": person.id_number if with_id else None,
        "owner_name": name,
        "owner_address": address,
        "vehicle_type": "small_passenger",
        "registration_date": dt.date(2024, 3, 1),
        "purchase_price": 80_000.0,
        "vehicle_status": "normal",
        "_period": "2024-03",
        "_truth": person.person,
    }


def test_address_blocks_only_records_with_nothing_else() -> None:
    keys = blocking_keys(["name", "birth_date", "region_code", "address"], flavour="chinese")
    residuals = [residual for columns, residual in keys if columns == ["address_key"]]
    assert len(residuals) == 1 and residuals[0] is not None and "birth_str is null" in residuals[0]
    assert all(
        columns != ["address_key"] for columns, _ in blocking_keys(["name"], flavour="chinese")
    )


def test_blank_id_row_goes_to_the_namesake_registered_at_its_address(workspace: Workspace) -> None:
    people = county(60, seed=21)
    # Three namesakes in three households; a fourth person's name is spelled otherwise below.
    twins = [dataclasses.replace(people[k], name=people[0].name) for k in (10, 20)]
    population = [*(p for k, p in enumerate(people) if k not in (10, 20)), *twins]
    registration = registration_rows(population, "2024-01")
    write_staging(workspace, "household_registration", registration)
    address = {row["_truth"]: row["address"] for row in registration}
    owner, typo_owner, no_address = twins[1], population[5], twins[0]
    rows = [
        _vehicle(p, k, with_id=True, name=p.name, address=address[p.person])
        for k, p in enumerate(population[30:45])
    ]
    rows.append(_vehicle(owner, 90, with_id=False, name=owner.name, address=address[owner.person]))
    # A homophone of the surname: the address still finds the owner.
    spelled = (
        "章" + typo_owner.name[1:] if typo_owner.name[0] != "章" else "张" + typo_owner.name[1:]
    )
    rows.append(
        _vehicle(typo_owner, 91, with_id=False, name=spelled, address=address[typo_owner.person])
    )
    # No ID number and no address: a name shared by three residents says nothing.
    rows.append(_vehicle(no_address, 92, with_id=False, name=no_address.name, address=None))
    write_staging(workspace, "vehicles", rows)
    link_workspace(workspace, settings=SETTINGS)
    links = open_backend(workspace).table("person_link").to_pyarrow().to_pylist()
    truth = truth_of(workspace)
    person_of: dict[str, set[str]] = {}
    for row in links:
        if row["dataset"] == "household_registration":
            person_of.setdefault(truth[row["_record_id"]], set()).add(row["person_id"])
    plate = {row["_record_id"]: row for row in links if row["dataset"] == "vehicles"}
    linked = {
        truth[record_id]: row["person_id"]
        for record_id, row in plate.items()
        if row["match_method"] == "probabilistic"
    }
    assert {linked[owner.person]} == person_of[owner.person]
    assert {linked[typo_owner.person]} == person_of[typo_owner.person]
    registered = set().union(*person_of.values())
    assert linked[no_address.person] not in registered
