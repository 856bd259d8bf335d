"""Ingestion and data quality: department feeds in, standard staging tables out, nothing lost."""

from __future__ import annotations

from dixian.ingest.headers import HeaderLayout, locate_header
from dixian.ingest.readers import (
    RawSheet,
    detect_encoding,
    open_feed,
    read_csv,
    read_database,
    read_parquet,
    read_xlsx,
)

__all__ = [
    "HeaderLayout",
    "RawSheet",
    "detect_encoding",
    "locate_header",
    "open_feed",
    "read_csv",
    "read_database",
    "read_parquet",
    "read_xlsx",
]
