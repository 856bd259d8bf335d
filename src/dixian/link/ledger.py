"""The run's bookkeeping: profiles and decisions in a local DuckDB that spills to disk.

A county of a million persons has four to five million identity profiles. Holding them as
Python rows and dictionaries on the driver took 20+ GiB; here they live in tables of an
in-process DuckDB with the workspace's `memory_limit` and a spill directory, and each
step of `dixian link` is a query on them:

- `profiles` — one row per identity profile (`dixian.link.records.distinct_profiles`)
  with `profile_id`, the ID analysis of `dixian.link.identity.analyse_ids` and `_pos`
  (the order the engine returned it in, which only orders the tables written; nothing
  that decides a link depends on it, since a multi-threaded engine does not keep it);
- `decided` — `profile_id`, `person_id`, `match_method`, `match_probability` of every
  profile decided so far (earlier runs, then each step of this run);
- `id_person` — valid ID number -> person, for the persons known by ID number;
- `name_sound` — name key -> pinyin, computed once per distinct name.

The profiles are read from the engine in batches, so no step needs the whole table as
Python objects; the same code runs whether the warehouse is DuckDB or Spark.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from dixian.link.chinese import pinyin
from dixian.link.identity import analyse_ids, person_id_for, profile_ids
from dixian.link.prepare import map_distinct

BATCH_ROWS = 500_000
# Columns of `profiles` the later steps read (the raw ID number and sex are replaced by
# their analysed forms `id_norm` and `eff_sex`).
PROFILE_COLUMNS = (
    "profile_key",
    "profile_id",
    "name",
    "birth_date",
    "region_code",
    "address",
    "n_records",
    "context",
    "slot",
    "id_norm",
    "id_valid",
    "id_consistent",
    "eff_birth",
    "eff_sex",
    "name_key",
)


def no_links() -> pa.Table:
    """An empty (profile_id, person_id) link table: a step that decided nothing."""
    return pa.table(
        {"profile_id": pa.array([], pa.string()), "person_id": pa.array([], pa.string())}
    )


def open_local(spill_dir: Path, *, threads: int, memory_limit: str) -> duckdb.DuckDBPyConnection:
    """An in-process DuckDB for the run's bookkeeping, spilling to `spill_dir`."""
    if spill_dir.exists():
        shutil.rmtree(spill_dir, ignore_errors=True)
    spill_dir.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(
        ":memory:",
        config={
            "threads": threads,
            "memory_limit": memory_limit,
            "temp_directory": str(spill_dir),
            # Every query whose order matters says so (`order by _pos`); without this
            # DuckDB keeps insertion order in memory and spills less.
            "preserve_insertion_order": False,
        },
    )


def _batches(profiles: Any) -> Iterator[pa.RecordBatch]:
    try:
        reader = profiles.to_pyarrow_batches(chunk_size=BATCH_ROWS)
    except NotImplementedError:
        # A backend without batch export: one table, still sliced for the Python steps.
        yield from profiles.to_pyarrow().to_batches(max_chunksize=BATCH_ROWS)
        return
    yield from reader


def load_profiles(con: duckdb.DuckDBPyConnection, profiles: Any, *, secret: bytes) -> int:
    """Read the identity profiles in batches into table `profiles`; returns their number.

    Args:
        con: the run's local DuckDB.
        profiles: the `distinct_profiles` expression on the workspace's engine.
        secret: the workspace key (profile ids are keyed hashes).
    """
    position = 0
    created = False
    for batch in _batches(profiles):
        if batch.num_rows == 0:
            continue
        table = pa.Table.from_batches([batch])
        keys = table.column("profile_key").to_pylist()
        table = table.append_column("profile_id", pa.array(profile_ids(secret, keys), pa.string()))
        del keys
        table = analyse_ids(table).select(list(PROFILE_COLUMNS))
        table = table.append_column(
            "_pos", pa.array(range(position, position + table.num_rows), pa.int64())
        )
        position += table.num_rows
        con.register("_batch", table)
        if created:
            con.execute("insert into profiles select * from _batch")
        else:
            con.execute("create table profiles as select * from _batch")
            created = True
        con.unregister("_batch")
    if not created:
        con.execute(
            "create table profiles (profile_key varchar, profile_id varchar, name varchar, "
            "birth_date date, region_code varchar, address varchar, n_records bigint, "
            "context varchar, slot varchar, id_norm varchar, id_valid boolean, "
            "id_consistent boolean, eff_birth date, eff_sex varchar, name_key varchar, "
            "_pos bigint)"
        )
    con.execute(
        "create table decided (profile_id varchar, person_id varchar, match_method varchar, "
        "match_probability double)"
    )
    names = con.sql(
        "select distinct name_key from profiles where name_key is not null"
    ).fetch_arrow_table()
    sounds = map_distinct(names.column("name_key"), pinyin, pa.string())
    con.register("_sounds", names.append_column("sound", sounds))
    con.execute("create table name_sound as select * from _sounds")
    con.unregister("_sounds")
    return position


def count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """The single integer a query returns."""
    row = con.sql(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def keep_previous(
    con: duckdb.DuckDBPyConnection, previous: pa.Table | None, *, reopened: set[str]
) -> None:
    """Decisions of earlier runs for the profiles that still exist and are not reopened."""
    if previous is None:
        return
    con.register(
        "_previous",
        previous.select(["profile_id", "person_id", "match_method", "match_probability"]),
    )
    con.register("_reopened", pa.table({"profile_id": pa.array(sorted(reopened), pa.string())}))
    con.execute(
        "insert into decided select v.profile_id, v.person_id, v.match_method, "
        "v.match_probability from _previous v semi join profiles p using (profile_id) "
        "anti join _reopened r using (profile_id)"
    )
    con.unregister("_previous")
    con.unregister("_reopened")


def deterministic_links(con: duckdb.DuckDBPyConnection, *, secret: bytes) -> int:
    """Profiles with a valid, consistent ID number join its person; returns how many.

    Also creates `id_person` (earlier runs' ID persons and this run's) and
    `person_sounds` (every person's name sounds, for ID repair).
    """
    con.execute(
        "create table id_person as select p.id_norm, min(d.person_id) as person_id "
        "from decided d join profiles p using (profile_id) "
        "where d.match_method = 'id' and p.id_norm is not null group by p.id_norm"
    )
    con.execute(
        "create temp table _todo as select p.profile_id, p.id_norm from profiles p "
        "anti join decided d using (profile_id) where p.id_consistent"
    )
    fresh = con.sql(
        "select distinct id_norm from _todo anti join id_person using (id_norm) order by 1"
    ).fetch_arrow_table()
    numbers = fresh.column("id_norm").to_pylist()
    con.register(
        "_fresh",
        fresh.append_column(
            "person_id",
            pa.array([person_id_for(secret, "id", number) for number in numbers], pa.string()),
        ),
    )
    del numbers
    con.execute("insert into id_person select id_norm, person_id from _fresh")
    con.unregister("_fresh")
    linked = count(con, "select count(*) from _todo")
    con.execute(
        "insert into decided select t.profile_id, i.person_id, 'id', 1.0 "
        "from _todo t join id_person i using (id_norm)"
    )
    con.execute("drop table _todo")
    con.execute(
        "create table person_sounds as select distinct d.person_id, coalesce(s.sound, '') "
        "as sound from decided d join profiles p using (profile_id) "
        "join name_sound s using (name_key)"
    )
    return linked


def decide(
    con: duckdb.DuckDBPyConnection, decisions: pa.Table, *, method: str, probability: float
) -> int:
    """Record decisions (`profile_id`, `person_id`) of one method; returns how many."""
    if decisions.num_rows == 0:
        return 0
    con.register("_decisions", decisions.select(["profile_id", "person_id"]))
    con.execute(
        f"insert into decided select profile_id, person_id, '{method}', {probability!r} "
        "from _decisions"
    )
    con.unregister("_decisions")
    n: int = decisions.num_rows
    return n


LINKED_SQL = """
select p.*, d.person_id, d.match_method, d.match_probability,
       case when d.match_method = 'id' then p.id_norm end as id_person
from profiles p join decided d using (profile_id)
"""

UNDECIDED_SQL = "select p.* from profiles p anti join decided d using (profile_id)"

# One row per person: the values of its profiles with the most records. Ties (two profiles
# of as many records) go to the larger profile id, so every run names the same values.
PERSONS_SQL = f"""
select person_id,
       max(id_person) as id_number,
       arg_max(name, (n_records, profile_id)) as name,
       arg_max(eff_sex, (n_records, profile_id)) filter (where eff_sex is not null) as sex,
       arg_max(eff_birth, (n_records, profile_id)) filter (where eff_birth is not null)
           as birth_date,
       arg_max(region_code, (n_records, profile_id)) filter (where region_code is not null)
           as region_code,
       arg_max(address, (n_records, profile_id)) filter (where address is not null) as address,
       sum(n_records)::bigint as n_records
from ({LINKED_SQL}) group by person_id
"""
