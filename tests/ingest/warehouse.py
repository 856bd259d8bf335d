"""Reading a test workspace's warehouse tables back as rows, for comparing runs."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from dixian.config import Workspace
from dixian.engine import open_backend


def table_rows(workspace: Workspace, name: str) -> list[dict[str, Any]]:
    """Every row of a warehouse table, as the engine returns them."""
    backend = open_backend(workspace)
    try:
        return backend_rows(backend, name)
    finally:
        backend.disconnect()


def backend_rows(backend: Any, name: str) -> list[dict[str, Any]]:
    """Every row of a table of an open backend."""
    rows: list[dict[str, Any]] = backend.to_pyarrow(backend.table(name)).to_pylist()
    return rows


def table_names(workspace: Workspace) -> set[str]:
    """The warehouse's table names."""
    backend = open_backend(workspace)
    try:
        return set(backend.list_tables())
    finally:
        backend.disconnect()


def comparable(rows: list[dict[str, Any]], volatile: Collection[str]) -> list[dict[str, Any]]:
    """Rows without the columns that differ between runs (times), in record (or batch) order."""
    cleaned = [{k: v for k, v in row.items() if k not in volatile} for row in rows]
    return sorted(cleaned, key=lambda row: str(row.get("_record_id") or row.get("batch_id")))
