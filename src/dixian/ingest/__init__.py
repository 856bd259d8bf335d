"""Ingestion and data quality: department feeds in, standard staging tables out, nothing lost."""

from __future__ import annotations

from dixian.ingest.files import discover_feeds
from dixian.ingest.headers import HeaderLayout, locate_header
from dixian.ingest.ledger import ReconciliationError
from dixian.ingest.mapping import Overrides, load_overrides, map_columns, recognise_dataset
from dixian.ingest.readers import (
    RawSheet,
    detect_encoding,
    open_feed,
    read_csv,
    read_database,
    read_parquet,
    read_xlsx,
)
from dixian.ingest.run import IngestResult, ingest_feeds
from dixian.ingest.validate import RULES, check_dataset
from dixian.ingest.values import CheckContext

__all__ = [
    "RULES",
    "CheckContext",
    "HeaderLayout",
    "IngestResult",
    "Overrides",
    "RawSheet",
    "ReconciliationError",
    "check_dataset",
    "detect_encoding",
    "discover_feeds",
    "ingest_feeds",
    "load_overrides",
    "locate_header",
    "map_columns",
    "open_feed",
    "read_csv",
    "read_database",
    "read_parquet",
    "read_xlsx",
    "recognise_dataset",
]
