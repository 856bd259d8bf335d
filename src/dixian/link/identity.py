"""Identity rules: person and profile ids, ID-number analysis and ID repair.

Person ids are keyed hashes (HMAC-SHA256 with a per-workspace key kept in
`W/artifacts/link/person_id.key`): stable across runs and full re-links, and not
reversible to an ID number by trying every possible number without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from dixian.config import Workspace
from dixian.ids import validate_id_numbers
from dixian.link.chinese import name_key
from dixian.link.prepare import map_distinct


def workspace_secret(workspace: Workspace) -> bytes:
    path = workspace.artifacts_dir / "link" / "person_id.key"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="ascii")
        path.chmod(0o600)
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


def person_id_for(secret: bytes, kind: str, value: str) -> str:
    # A keyed hash: stable across runs, and not reversible to the ID number by a dictionary
    # of all possible numbers without the workspace's key.
    digest = hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return "P" + digest[:15].upper()


def profile_ids(secret: bytes, keys: list[str]) -> list[str]:
    # Keyed like person ids (the key holds names and ID numbers), with keyed BLAKE2b: a
    # county has millions of profiles and HMAC-SHA256 in Python is several times slower.
    key = secret[:64]
    return [
        hashlib.blake2b(text.encode("utf-8"), key=key, digest_size=10).hexdigest() for text in keys
    ]


def _birth_from_bad_id(number: str | None, today: date) -> date | None:
    if not number or len(number) != 18 or not number[6:14].isdigit():
        return None
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    return born if date(1900, 1, 1) <= born <= today else None


def _sex_from_bad_id(number: str | None) -> str | None:
    if not number or len(number) != 18 or not number[16].isdigit():
        return None
    return "M" if int(number[16]) % 2 else "F"


def analyse_ids(profiles: pa.Table) -> pa.Table:
    """Add ID validity, consistency and the effective birth date and sex of each profile."""
    today = date.today()
    checks = validate_id_numbers(profiles.column("id_number"), today=today)
    valid = pc.fill_null(checks.column("valid"), False)
    normalised = checks.column("normalised")
    id_birth, id_sex = checks.column("birth_date"), checks.column("sex")
    birth, sex = profiles.column("birth_date"), profiles.column("sex")
    birth_agrees = pc.or_kleene(pc.is_null(birth), pc.equal(birth, id_birth))
    sex_agrees = pc.or_kleene(pc.is_null(sex), pc.equal(sex, id_sex))
    consistent = pc.fill_null(pc.and_kleene(valid, pc.and_kleene(birth_agrees, sex_agrees)), False)
    numbers = normalised.to_pylist()
    valid_list = valid.to_pylist()
    bad_birth = pa.array(
        [
            None if ok else _birth_from_bad_id(n, today)
            for n, ok in zip(numbers, valid_list, strict=True)
        ],
        pa.date32(),
    )
    bad_sex = pa.array(
        [None if ok else _sex_from_bad_id(n) for n, ok in zip(numbers, valid_list, strict=True)],
        pa.string(),
    )
    effective_birth = pc.coalesce(birth, pc.if_else(valid, id_birth, bad_birth))
    effective_sex = pc.coalesce(sex, pc.if_else(valid, id_sex, bad_sex))
    return (
        profiles.append_column("id_norm", pc.if_else(pc.equal(normalised, ""), None, normalised))
        .append_column("id_valid", valid)
        .append_column("id_consistent", consistent)
        .append_column("eff_birth", effective_birth)
        .append_column("eff_sex", effective_sex)
        .append_column(
            "name_key",
            map_distinct(profiles.column("name"), name_key, pa.string()),
        )
    )


_ALPHABET = "0123456789"


def _one_error_variants(number: str) -> set[str]:
    """Every number one substitution or one adjacent transposition away (valid or not)."""
    variants: set[str] = set()
    for position in range(18):
        alphabet = _ALPHABET + "X" if position == 17 else _ALPHABET
        for char in alphabet:
            if char != number[position]:
                variants.add(number[:position] + char + number[position + 1 :])
    for position in range(17):
        left, right = number[position], number[position + 1]
        if left != right:
            variants.add(number[:position] + right + left + number[position + 2 :])
    return variants


_VARIANTS_SQL = """
with chars as (select unnest(['0','1','2','3','4','5','6','7','8','9','X']) as c),
positions as (select unnest(range(18)) as p),
variants as (
    select b.number, substr(b.number, 1, p) || c || substr(b.number, p + 2) as candidate
    from bad b, positions, chars
    where c <> substr(b.number, p + 1, 1) and (c <> 'X' or p = 17)
    union all
    select b.number,
           substr(b.number, 1, p) || substr(b.number, p + 2, 1) || substr(b.number, p + 1, 1)
           || substr(b.number, p + 3) as candidate
    from bad b, positions
    where p < 17 and substr(b.number, p + 1, 1) <> substr(b.number, p + 2, 1)
)
select v.number, v.candidate from variants v semi join known k on k.number = v.candidate
"""


# A substitution changes one character and a transposition two, so the two branches never
# produce the same variant and `union all` (streamed into the semi join, nothing held)
# gives the same set as `union`; `union` had to hold all ~200 variants of every failing
# number at once, and ran out of memory at 1M persons.


def _known_variants(bad: list[str], known_numbers: list[str]) -> dict[str, list[str]]:
    """For each failing number, its one-error variants that are known numbers.

    The same set as `_one_error_variants` looked up one by one, computed as one join in an
    in-process DuckDB (thousands of failing numbers x ~200 variants each).
    """
    import duckdb

    con = duckdb.connect()
    con.register("bad", pa.table({"number": pa.array(sorted(set(bad)), pa.string())}))
    con.register("known", pa.table({"number": pa.array(known_numbers, pa.string())}))
    found: dict[str, list[str]] = {}
    for number, candidate in con.sql(_VARIANTS_SQL).fetchall():
        found.setdefault(number, []).append(candidate)
    return found


_REPAIR_SQL = """
with hits as (
    select distinct t.profile_id, t.id_norm, v.candidate, i.person_id
    from _repair_todo t
    join _repair_variants v on v.number = t.id_norm
    join id_person i on i.id_norm = v.candidate
    join name_sound n on n.name_key = t.name_key
    join person_sounds s on s.person_id = i.person_id and s.sound = n.sound
    where t.birth_date is null or strftime(t.birth_date, '%Y%m%d') = substr(v.candidate, 7, 8)
)
select profile_id, any_value(id_norm) as original_id_number,
       any_value(candidate) as repaired_id_number, any_value(person_id) as person_id
from hits group by profile_id having count(*) = 1 order by profile_id
"""


def repair_ids(con: Any) -> pa.Table:
    """Repair failing 18-character ID numbers against the persons known by ID.

    A profile is repaired when exactly one of its repair candidates
    (`dixian.ids.repair_candidates`: one substituted character or one transposition) is
    the ID number of a known person whose name sounds the same (pinyin, so a homophone
    or a traditional form still agrees) and whose birth date equals the profile's stated
    birth date, when it states one.

    Args:
        con: the run's local DuckDB (`dixian.link.ledger`: tables `profiles`, `decided`,
            `id_person`, `name_sound`, `person_sounds`).

    Returns:
        One row per repair: `profile_id`, `original_id_number`, `repaired_id_number`,
        `person_id`.
    """
    con.execute(
        "create or replace temp table _repair_todo as "
        "select p.profile_id, p.id_norm, p.name_key, p.birth_date from profiles p "
        "anti join decided d using (profile_id) "
        "where not p.id_valid and length(p.id_norm) = 18 and p.name_key is not null"
    )
    # The known numbers are all valid, so the one-error variants that are known are
    # exactly `repair_candidates(number)` intersected with them (a test checks the
    # variants cover `repair_candidates`); one join finds them for every failing number.
    con.execute(
        "create or replace temp view bad as select distinct id_norm as number from _repair_todo"
    )
    con.execute("create or replace temp view known as select id_norm as number from id_person")
    con.execute(f"create or replace temp table _repair_variants as {_VARIANTS_SQL}")
    repairs: pa.Table = con.sql(_REPAIR_SQL).fetch_arrow_table()
    for name in ("_repair_variants", "_repair_todo"):
        con.execute(f"drop table {name}")
    con.execute("drop view bad")
    con.execute("drop view known")
    return repairs
