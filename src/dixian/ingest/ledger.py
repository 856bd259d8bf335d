"""The batch ledger (`ingest_batches`): one row per ingested file or sheet set, with its counts.

Every batch records rows read, accepted and quarantined; the run refuses to commit unless
read = accepted + quarantined for every batch, counted in the tables actually written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from dixian.errors import DixianError

LEDGER_TABLE = "ingest_batches"
QUARANTINE_TABLE = "quarantine"
STAGING_PREFIX = "staging_"
# Where a row came from, carried on every staged and quarantined row (after `_record_id`).
LINEAGE_COLUMNS = (
    "_batch_id",
    "_source_file",
    "_sheet",
    "_row_number",
    "_row_hash",
    "_ingested_at",
)

LEDGER_SCHEMA = pa.schema(
    [
        ("batch_id", pa.string()),
        ("batch_seq", pa.int64()),
        ("dataset", pa.string()),
        ("department", pa.string()),
        ("period", pa.string()),
        ("source_file", pa.string()),
        ("sheets", pa.string()),
        ("content_hash", pa.string()),
        ("encoding", pa.string()),
        ("column_mapping", pa.string()),
        ("columns_dropped", pa.string()),
        ("rows_read", pa.int64()),
        ("rows_accepted", pa.int64()),
        ("rows_quarantined", pa.int64()),
        ("rows_flagged", pa.int64()),
        ("rows_resolved", pa.int64()),
        ("replaces_batch", pa.string()),
        ("started_at", pa.timestamp("us")),
        ("finished_at", pa.timestamp("us")),
        ("status", pa.string()),
    ]
)


class ReconciliationError(DixianError):
    """Rows read differ from rows accepted + quarantined: a bug; the run is not committed."""


@dataclass
class BatchRecord:
    """One batch of the ledger, filled in as the run goes."""

    batch_id: str
    batch_seq: int
    dataset: str
    department: str
    period: str
    source_file: str
    content_hash: str
    encoding: str | None
    started_at: datetime
    sheets: list[str] = field(default_factory=list)
    column_mapping: dict[str, dict[str, str]] = field(default_factory=dict)
    columns_dropped: dict[str, list[str]] = field(default_factory=dict)
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    rows_flagged: int = 0
    rows_resolved: int = 0
    replaces_batch: str | None = None
    finished_at: datetime | None = None
    status: str = "committed"

    def as_row(self) -> dict[str, Any]:
        import json

        return {
            "batch_id": self.batch_id,
            "batch_seq": self.batch_seq,
            "dataset": self.dataset,
            "department": self.department,
            "period": self.period,
            "source_file": self.source_file,
            "sheets": json.dumps(self.sheets, ensure_ascii=False),
            "content_hash": self.content_hash,
            "encoding": self.encoding,
            "column_mapping": json.dumps(self.column_mapping, ensure_ascii=False, sort_keys=True),
            "columns_dropped": json.dumps(self.columns_dropped, ensure_ascii=False, sort_keys=True),
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_quarantined": self.rows_quarantined,
            "rows_flagged": self.rows_flagged,
            "rows_resolved": self.rows_resolved,
            "replaces_batch": self.replaces_batch,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "status": self.status,
        }


def ledger_table(records: list[BatchRecord]) -> pa.Table:
    """The ledger rows of a run as an Arrow table."""
    return pa.Table.from_pylist([r.as_row() for r in records], schema=LEDGER_SCHEMA)


def reconcile(
    records: list[BatchRecord],
    accepted: dict[str, int],
    quarantined: dict[str, int],
    flagged: dict[str, int],
) -> None:
    """Fill in accepted/quarantined counts and check read = accepted + quarantined per batch.

    Args:
        records: the run's batches, with rows_read counted by the readers.
        accepted: rows per batch id in the staging tables about to be committed.
        quarantined: rows per batch id in the quarantine table about to be committed.
        flagged: accepted rows per batch id that carry warnings.

    Raises:
        ReconciliationError: a batch whose counts do not add up (names every such batch).
    """
    problems = []
    for record in records:
        record.rows_accepted = accepted.get(record.batch_id, 0)
        record.rows_quarantined = quarantined.get(record.batch_id, 0)
        record.rows_flagged = flagged.get(record.batch_id, 0)
        if record.rows_read != record.rows_accepted + record.rows_quarantined:
            problems.append(
                f"{record.source_file} ({record.batch_id}): read {record.rows_read}, accepted "
                f"{record.rows_accepted}, quarantined {record.rows_quarantined}"
            )
    if problems:
        raise ReconciliationError(
            "rows do not reconcile, nothing was committed: " + "; ".join(problems)
        )
