"""Intermediate results of a build, computed into tables of the connection and dropped after."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

INTERMEDIATE_PREFIX = "_features_"


def materialise(backend: BaseBackend, name: str, expression: ir.Table) -> ir.Table:
    """Compute an intermediate result into a temporary table of this connection.

    Engines without temporary tables (Spark) get an ordinary table, dropped by
    `drop_intermediates` once the panel is stored.
    """
    table_name = f"{INTERMEDIATE_PREFIX}{name}"
    try:
        return backend.create_table(table_name, expression, temp=True, overwrite=True)
    except NotImplementedError:
        return backend.create_table(table_name, expression, overwrite=True)


def drop_intermediates(backend: BaseBackend) -> None:
    """Drop the intermediate tables a build left (temporary ones too: they hold spill space)."""
    for name in backend.list_tables():
        if name.startswith(INTERMEDIATE_PREFIX):
            backend.drop_table(name, force=True)
