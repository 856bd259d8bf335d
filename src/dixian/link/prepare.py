"""Turn records with comparison roles into the node table every linkage run compares.

A *role table* has one row per record (or per known person) and the columns named in
`ROLE_COLUMNS`, typed: strings, `birth_date` a date. `prepare_nodes` adds the derived
comparison keys (see `dixian.link.chinese`) with Arrow compute and per-distinct-value
Python maps, so the result is the same whichever engine later compares it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from dixian.link.chinese import char_bigrams, name_features, name_key

# Columns of a role table. `node_id` is unique; `source` separates the sides of a link
# (left/right files, or known persons/new records); the rest may be null.
ROLE_COLUMNS: dict[str, pa.DataType] = {
    "node_id": pa.string(),
    "source": pa.string(),
    "name": pa.string(),
    "surname": pa.string(),
    "given_name": pa.string(),
    "birth_date": pa.date32(),
    "sex": pa.string(),
    "id_number": pa.string(),
    "address": pa.string(),
    "region_code": pa.string(),
}

_NAME_FIELDS = (
    "key",
    "surname",
    "given",
    "pinyin",
    "pinyin_fuzzy",
    "surname_pinyin",
    "given_pinyin",
    "given_pinyin_fuzzy",
    "masks",
    "given_masks",
)
_LIST_FIELDS = {"masks", "given_masks"}


def empty_role_table() -> pa.Table:
    """A role table with no rows (the schema every producer must follow)."""
    return pa.table({name: pa.array([], type=kind) for name, kind in ROLE_COLUMNS.items()})


def conform_roles(table: pa.Table) -> pa.Table:
    """Select and cast the role columns, adding missing optional ones as nulls."""
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    for name, kind in ROLE_COLUMNS.items():
        if name in table.column_names:
            columns[name] = table.column(name).cast(kind)
        else:
            columns[name] = pa.nulls(table.num_rows, type=kind)
    if "label" in table.column_names:
        # Known identity (e.g. a valid ID number), used only to seed training.
        columns["label"] = table.column("label").cast(pa.string())
    return pa.table(columns)


def map_distinct(
    values: pa.ChunkedArray | pa.Array, function: Callable[[Any], Any], kind: pa.DataType
) -> pa.Array:
    """Apply a Python function once per distinct value and broadcast the results back."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(values)
    dictionary = encoded.dictionary.to_pylist()
    mapped = pa.array([function(value) for value in dictionary], type=kind)
    return pc.take(mapped, encoded.indices)


def _pad2(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    return pc.utf8_lpad(pc.cast(values, pa.string()), width=2, padding="0")


def prepare_nodes(roles: pa.Table) -> pa.Table:
    """Add the derived comparison keys to a role table.

    Args:
        roles: a table with (a subset of) the `ROLE_COLUMNS`.

    Returns:
        The role columns plus name keys, pinyin, substitution masks, birth-date parts
        (string date, day/month swapped, year, month-day), ID parts and address grams.
    """
    roles = conform_roles(roles)
    names = roles.column("name").combine_chunks()
    surnames = roles.column("surname").combine_chunks()
    givens = roles.column("given_name").combine_chunks()
    has_parts = pc.any(pc.is_valid(surnames)).as_py() or pc.any(pc.is_valid(givens)).as_py()
    if has_parts:
        # Files with separate surname and given-name columns: key on the pair.
        joined = pc.binary_join_element_wise(
            pc.fill_null(names, ""), pc.fill_null(surnames, ""), pc.fill_null(givens, ""), "\x1f"
        )

        def features_of(value: str) -> tuple[Any, ...]:
            name, surname, given = value.split("\x1f")
            if surname or given:
                found = name_features(None, surname=surname or None, given=given or None)
            else:
                found = name_features(name or None)
            return tuple(getattr(found, field) for field in _NAME_FIELDS)

        source: pa.Array = joined
    else:

        def features_of(value: str) -> tuple[Any, ...]:
            found = name_features(value)
            return tuple(getattr(found, field) for field in _NAME_FIELDS)

        source = names
    struct_type = pa.struct(
        [
            (field, pa.list_(pa.string()) if field in _LIST_FIELDS else pa.string())
            for field in _NAME_FIELDS
        ]
    )
    name_struct = map_distinct(
        source,
        lambda value: (
            dict(zip(_NAME_FIELDS, features_of(value), strict=True)) if value is not None else None
        ),
        struct_type,
    )
    out = roles
    for field in _NAME_FIELDS:
        out = out.append_column(f"name_{field}", pc.struct_field(name_struct, field))

    birth = roles.column("birth_date")
    year, month, day = pc.year(birth), pc.month(birth), pc.day(birth)
    month_day = pc.binary_join_element_wise(_pad2(month), _pad2(day), "-")
    swappable = pc.and_(pc.less_equal(day, 12), pc.not_equal(day, month))
    swapped = pc.binary_join_element_wise(pc.cast(year, pa.string()), _pad2(day), _pad2(month), "-")
    out = out.append_column("birth_str", pc.cast(birth, pa.string()))
    out = out.append_column("birth_year", pc.cast(year, pa.int64()))
    out = out.append_column("birth_md", month_day)
    out = out.append_column(
        "birth_swapped", pc.if_else(swappable, swapped, pa.scalar(None, pa.string()))
    )

    ids = pc.utf8_upper(roles.column("id_number"))
    out = out.set_column(out.column_names.index("id_number"), "id_number", ids)
    out = out.append_column("id_region", pc.utf8_slice_codeunits(ids, 0, 6))
    out = out.append_column("id_birth", pc.utf8_slice_codeunits(ids, 6, 14))

    region = roles.column("region_code")
    out = out.append_column("township_code", pc.utf8_slice_codeunits(region, 0, 9))

    address_keys = map_distinct(roles.column("address"), name_key, pa.string())
    out = out.append_column("address_key", address_keys)
    out = out.append_column(
        "address_grams", map_distinct(address_keys, char_bigrams, pa.list_(pa.string()))
    )
    return out


def reachable(nodes: pa.Table, keys: list[list[str]], *, fixed_source: str) -> pa.Table:
    """Drop the nodes of `fixed_source` that share no blocking key with any other node.

    When new records are compared with a register of known persons (never person with
    person), a person can only be a candidate through a blocking key some new record has;
    the others would only feed the blocking joins with person–person pairs that the pair
    filter then throws away (millions of them for a county's register).
    """
    import duckdb

    con = duckdb.connect()
    con.register("nodes", nodes)
    keep = []
    for columns in keys:
        on = " and ".join(f"p.{c} = q.{c}" for c in columns)
        not_null = " and ".join(f"{c} is not null" for c in columns)
        keep.append(
            f"select p.node_id from nodes p semi join (select distinct {', '.join(columns)} "
            f"from nodes where source <> '{fixed_source}' and {not_null}) q on {on} "
            f"where p.source = '{fixed_source}'"
        )
    if not keep:
        return nodes
    kept = con.sql(" union ".join(keep)).fetch_arrow_table().column(0)
    mask = pc.or_(
        pc.not_equal(nodes.column("source"), fixed_source), pc.is_in(nodes.column("node_id"), kept)
    )
    return nodes.filter(mask)
