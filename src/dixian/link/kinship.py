"""Household context: a row without ID number placed by the household it names.

A poverty-registry row names its registry household and a civil-affairs assistance row its
applicant (the household head's ID number). When such a row has lost its own ID number and
carries no birth date, the household still says who it is: the household's other members
(registry rows of the same household linked by ID number, or the head known by ID number)
live in registration households (户籍, `household_registration`); the person is the member
of those households with the same name (and sex, when both are known). One household has
no two members of one name, so exactly one such member decides; none or several leave the
row to the probabilistic step.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from dixian.link.ledger import no_links

REGISTRATION = "household_registration"
HEAD_PREFIX = "head:"

_SQL = """
with w as (
    select p.profile_id, p.name_key, p.eff_sex, h.dataset, h.household
    from weak_households h join profiles p using (profile_key)
    where p.name_key is not null
),
anchors as (
    select w.profile_id, k.person_id
    from w
    join anchor_rows a on a.dataset = w.dataset and a.household = w.household
    join profiles p on p.profile_key = a.profile_key
    join known k on k.profile_id = p.profile_id
    union
    select w.profile_id, h.person_id from w join heads h on h.household = w.household
),
members as (
    select r.household, k.person_id, p.name_key, p.eff_sex
    from registration r
    join profiles p using (profile_key)
    join known k on k.profile_id = p.profile_id
),
their_households as (
    select distinct a.profile_id, m.household
    from anchors a join members m on m.person_id = a.person_id
),
candidates as (
    select distinct t.profile_id, m.person_id
    from their_households t
    join members m using (household)
    join w using (profile_id)
    where m.name_key = w.name_key
      and (w.eff_sex is null or m.eff_sex is null or w.eff_sex = m.eff_sex)
)
select profile_id, any_value(person_id) as person_id from candidates
group by profile_id having count(*) = 1
"""


def _arrow(expression: ir.Table) -> pa.Table:
    table: pa.Table = expression.distinct().to_pyarrow()
    return table


def household_links(records: ir.Table, con: Any) -> pa.Table:
    """Weak profiles whose household names exactly one registered member of their name.

    Args:
        records: `dixian.link.records.person_records` (with `household`).
        con: the run's local DuckDB (`dixian.link.ledger`) with tables `profiles`,
            `decided`, `id_person` (valid ID number -> person, for household heads named
            by ID number) and `weak` (the profiles to decide: no ID number, no birth
            date); profiles already in `decided` are skipped.

    Returns:
        `profile_id`, `person_id` of the profiles the rule decides.
    """
    open_keys = con.sql(
        "select profile_key from weak anti join decided using (profile_id)"
    ).fetch_arrow_table()
    if open_keys.num_rows == 0:
        return no_links()
    keys = ibis.memtable(open_keys)
    named = records.filter(records["household"].notnull())
    weak_households = _arrow(
        named.semi_join(keys, named["profile_key"] == keys["profile_key"]).select(
            "profile_key", "dataset", "household"
        )
    )
    if weak_households.num_rows == 0:
        return no_links()
    wanted = ibis.memtable(weak_households.select(["dataset", "household"]))
    anchor_rows = _arrow(
        named.semi_join(
            wanted,
            [named["dataset"] == wanted["dataset"], named["household"] == wanted["household"]],
        ).select("dataset", "household", "profile_key")
    )
    registration = _arrow(
        named.filter(named["dataset"] == REGISTRATION).select("household", "profile_key")
    )
    con.register("weak_households", weak_households)
    con.register("anchor_rows", anchor_rows)
    con.register("registration", registration)
    con.execute("create or replace temp view known as select profile_id, person_id from decided")
    con.execute(
        "create or replace temp view heads as select distinct w.household, i.person_id "
        "from weak_households w join id_person i "
        f"on w.household = '{HEAD_PREFIX}' || i.id_norm"
    )
    decided: pa.Table = con.sql(_SQL).fetch_arrow_table()
    for view in ("weak_households", "anchor_rows", "registration"):
        con.unregister(view)
    con.execute("drop view known")
    con.execute("drop view heads")
    return decided
