"""The household-period panel (一户一档): its declared schema (and, later, its builder)."""

from __future__ import annotations

from dixian.features.panel_schema import (
    EVIDENCE_COLUMN,
    PANEL_COLUMNS,
    PANEL_TABLE,
    PanelColumn,
    PanelGroup,
    PanelType,
    check_panel_table,
    decode_evidence,
    encode_evidence,
    panel_columns,
    panel_memtable,
    panel_schema,
)

__all__ = [
    "EVIDENCE_COLUMN",
    "PANEL_COLUMNS",
    "PANEL_TABLE",
    "PanelColumn",
    "PanelGroup",
    "PanelType",
    "check_panel_table",
    "decode_evidence",
    "encode_evidence",
    "panel_columns",
    "panel_memtable",
    "panel_schema",
]
