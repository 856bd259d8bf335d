"""Households per period (一户一档的家庭), reconciled with the poverty registry.

`household_membership` comes from household registration (户籍): each period's rows give
who is registered in which household (户号) with which relation to the head; deceased and
moved-out registrations are not members. The poverty registry's households (建档立卡户) are
compared with them and every difference is listed in `household_discrepancies`, not
silently resolved:

- `registry_member_not_registered`: a registry member with no registration that period;
- `registry_household_spans_households`: a registry household whose members are registered
  in more than one household;
- `registered_member_not_in_registry`: someone registered in a household with registry
  members, but in no registry household that period.

`household_changes` tracks, between consecutive periods, each person whose household
changed: `split` (into a household that did not exist before), `merge` (out of a
household that no longer exists), `move` (between existing households), `joined` (first
appearance after the first period) and `relocated` (the household's village changed).
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from dixian.config import Workspace
from dixian.engine import open_backend
from dixian.link.store import (
    HOUSEHOLD_CHANGES,
    HOUSEHOLD_DISCREPANCIES,
    HOUSEHOLD_MEMBERSHIP,
    PERSON_LINK,
    write_table,
)

_REGISTRATION = "staging_household_registration"
_REGISTRY = "staging_poverty_registry"
_NOT_MEMBERS = ("deceased", "moved_out")


def _membership(backend: Any) -> ir.Table | None:
    tables = set(backend.list_tables())
    if _REGISTRATION not in tables or PERSON_LINK not in tables:
        return None
    registration = backend.table(_REGISTRATION)
    if "_is_current" in registration.columns:
        registration = registration.filter(registration["_is_current"])
    if "registration_status" in registration.columns:
        status = registration["registration_status"].fill_null("normal")
        registration = registration.filter(~status.isin(_NOT_MEMBERS))
    links = backend.table(PERSON_LINK)
    joined = registration.join(links, registration["_record_id"] == links["_record_id"])
    membership = joined.select(
        period=registration["_period"],
        household_id=registration["household_number"].cast("string"),
        person_id=links["person_id"],
        relation_to_head=registration["relation_to_head"].cast("string"),
        region_code=registration["region_code"].cast("string"),
    )
    # One row per person and period: a person registered twice keeps the first household.
    window = ibis.window(
        group_by=[membership.period, membership.person_id], order_by=[membership.household_id]
    )
    ranked = membership.mutate(_rank=ibis.row_number().over(window))
    return ranked.filter(ranked._rank == 0).drop("_rank")


def _registry_members(backend: Any) -> ir.Table | None:
    tables = set(backend.list_tables())
    if _REGISTRY not in tables:
        return None
    registry = backend.table(_REGISTRY)
    if "_is_current" in registry.columns:
        registry = registry.filter(registry["_is_current"])
    links = backend.table(PERSON_LINK)
    joined = registry.join(links, registry["_record_id"] == links["_record_id"])
    return joined.select(
        period=registry["_period"],
        registry_household_id=registry["registry_household_id"].cast("string"),
        person_id=links["person_id"],
    ).distinct()


def _discrepancies(membership: ir.Table, registry: ir.Table) -> ir.Table:
    members = membership.select("period", "person_id", "household_id")
    with_household = registry.left_join(
        members,
        [registry.period == members.period, registry.person_id == members.person_id],
    ).select(
        period=registry.period,
        registry_household_id=registry.registry_household_id,
        person_id=registry.person_id,
        household_id=members.household_id,
    )
    unregistered = with_household.filter(with_household.household_id.isnull()).mutate(
        kind=ibis.literal("registry_member_not_registered")
    )
    registered = with_household.filter(with_household.household_id.notnull())
    spread = registered.group_by(["period", "registry_household_id"]).aggregate(
        n_households=registered.household_id.nunique()
    )
    spread = spread.filter(spread.n_households > 1)
    spanning = registered.semi_join(
        spread,
        [
            registered.period == spread.period,
            registered.registry_household_id == spread.registry_household_id,
        ],
    ).mutate(kind=ibis.literal("registry_household_spans_households"))
    touched = registered.select("period", "household_id").distinct()
    in_touched = members.semi_join(
        touched, [members.period == touched.period, members.household_id == touched.household_id]
    )
    missing = in_touched.anti_join(
        registry,
        [in_touched.period == registry.period, in_touched.person_id == registry.person_id],
    ).select(
        period=in_touched.period,
        registry_household_id=ibis.null().cast("string"),
        person_id=in_touched.person_id,
        household_id=in_touched.household_id,
        kind=ibis.literal("registered_member_not_in_registry"),
    )
    columns = ["period", "registry_household_id", "person_id", "household_id", "kind"]
    return ibis.union(
        unregistered.select(columns), spanning.select(columns), missing.select(columns)
    )


def _changes(membership: ir.Table) -> ir.Table:
    window = ibis.window(group_by=membership.person_id, order_by=membership.period)
    with_previous = membership.mutate(
        previous_period=membership.period.lag().over(window),
        from_household=membership.household_id.lag().over(window),
        previous_region=membership.region_code.lag().over(window),
    )
    first_period = membership.period.min().as_scalar()
    existing = membership.select(
        e_period=membership.period, e_household=membership.household_id
    ).distinct()
    changed = with_previous.filter(
        (with_previous.from_household != with_previous.household_id)
        | (with_previous.from_household.isnull() & (with_previous.period != first_period))
        | (
            (with_previous.from_household == with_previous.household_id)
            & (with_previous.previous_region != with_previous.region_code)
        )
    )
    existed = existing.rename(x_period="e_period", x_household="e_household").mutate(
        existed_before=ibis.literal(True)
    )
    survives = existing.rename(s_period="e_period", s_household="e_household").mutate(
        still_exists=ibis.literal(True)
    )
    joined = changed.left_join(
        existed,
        [changed.previous_period == existed.x_period, changed.household_id == existed.x_household],
    ).left_join(
        survives,
        [changed.period == survives.s_period, changed.from_household == survives.s_household],
    )
    kind = ibis.cases(
        (joined.from_household.isnull(), "joined"),
        (joined.from_household == joined.household_id, "relocated"),
        (joined.existed_before.isnull(), "split"),
        (joined.still_exists.isnull(), "merge"),
        else_="move",
    )
    return joined.select(
        period=joined.period,
        person_id=joined.person_id,
        from_household=joined.from_household,
        to_household=joined.household_id,
        kind=kind,
    )


def build_households(workspace: Workspace) -> dict[str, Any]:
    """Write `household_membership`, `household_discrepancies` and `household_changes`.

    Returns:
        Counts: households, periods, discrepancies and changes by kind (empty when there
        is no household registration yet).
    """
    backend = open_backend(workspace)
    membership = _membership(backend)
    if membership is None:
        return {}
    write_table(backend, HOUSEHOLD_MEMBERSHIP, membership)
    membership = backend.table(HOUSEHOLD_MEMBERSHIP)
    figures: dict[str, Any] = {
        "households": int(membership.household_id.nunique().execute()),
        "periods": int(membership.period.nunique().execute()),
    }
    registry = _registry_members(backend)
    if registry is not None:
        write_table(backend, HOUSEHOLD_DISCREPANCIES, _discrepancies(membership, registry))
        counts = backend.table(HOUSEHOLD_DISCREPANCIES).kind.value_counts().to_pyarrow()
        figures["discrepancies"] = dict(
            zip(counts.column(0).to_pylist(), counts.column(1).to_pylist(), strict=True)
        )
    write_table(backend, HOUSEHOLD_CHANGES, _changes(membership))
    counts = backend.table(HOUSEHOLD_CHANGES).kind.value_counts().to_pyarrow()
    figures["changes"] = dict(
        zip(counts.column(0).to_pylist(), counts.column(1).to_pylist(), strict=True)
    )
    return figures
