"""One ingestion run: new feed files → staging tables, quarantine and the batch ledger.

The run reads every new file (content hash not yet in the ledger), in worker processes when
there is much to read, into a Parquet spool of text rows (`spool.py`); the engine normalises
and validates them and builds the next version of each touched table under a `__next` name.
Only when every batch reconciles (rows read = accepted + quarantined) are the `__next` tables
swapped in; a failure anywhere drops them, leaving the warehouse as it was.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from dixian.config import Workspace
from dixian.engine import swap_in_staged
from dixian.ingest import quarantine as qr
from dixian.ingest import validate as vd
from dixian.ingest.files import (
    Progress,
    content_hash,
    discover_feeds,
    read_all,
    source_name,
    worker_count,
)
from dixian.ingest.ledger import (
    LEDGER_SCHEMA,
    LEDGER_TABLE,
    QUARANTINE_TABLE,
    STAGING_PREFIX,
    BatchRecord,
    ledger_table,
    reconcile,
)
from dixian.ingest.mapping import load_overrides, locate_feed
from dixian.ingest.regions import REGIONS_VIEW, regions_lookup
from dixian.ingest.spool import FeedTask, spool_glob
from dixian.ingest.staging import NEXT, StagingRun, stage_dataset
from dixian.ingest.values import CheckContext
from dixian.standards import Dataset, load_catalog

_NULL_MARK = "\x1e"
_SEPARATOR = "\x1f"


@dataclass
class IngestResult:
    """What a run did: the batches committed and the files skipped as already ingested."""

    batches: list[BatchRecord] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    quarantine: dict[str, int] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        """Summary figures for the CLI."""
        return {
            "files_ingested": len(self.batches),
            "files_unchanged": len(self.unchanged),
            "datasets": len(self.datasets),
            "rows_read": sum(b.rows_read for b in self.batches),
            "rows_accepted": sum(b.rows_accepted for b in self.batches),
            "rows_quarantined": sum(b.rows_quarantined for b in self.batches),
            "rows_flagged": sum(b.rows_flagged for b in self.batches),
            "quarantine_resolved_now": sum(b.rows_resolved for b in self.batches),
            "quarantine_open": self.quarantine.get(qr.OPEN, 0),
            "quarantine_resolved": self.quarantine.get(qr.RESOLVED, 0),
            "quarantine_superseded": self.quarantine.get(qr.SUPERSEDED, 0),
            "reconciled": all(
                b.rows_read == b.rows_accepted + b.rows_quarantined for b in self.batches
            ),
        }


def _existing(backend: Any, name: str) -> bool:
    return name in backend.list_tables()


def _with_lineage(checked: ir.Table, dataset: Dataset, ingested_at: datetime) -> ir.Table:
    hashed = ibis.literal("")
    for index, name in enumerate(dataset.field_names()):
        value = checked[f"_raw_{name}"].fill_null(_NULL_MARK)
        hashed = value if index == 0 else hashed.concat(_SEPARATOR, value)
    # The original text is kept for quarantined rows only (the hash already covers it).
    originals = {
        f"_raw_{name}": ibis.ifelse(checked._rejected, checked[f"_raw_{name}"], ibis.null("string"))
        for name in dataset.field_names()
    }
    return checked.mutate(
        _record_id=checked._batch_id.concat(":", checked._sheet, ":").concat(
            checked._row_number.cast("string")
        ),
        _row_hash=hashed.hexdigest("md5"),
        _ingested_at=ibis.literal(ingested_at, type="timestamp"),
        **originals,
    )


class _Tables:
    """Names created during a run, dropped again unless committed."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.views: list[str] = []
        self.tables: list[str] = []

    def drop_all(self) -> None:
        # Best effort: this runs while another error is on its way up.
        for name in self.tables:
            with contextlib.suppress(Exception):
                self.backend.drop_table(name, force=True)
        for name in self.views:
            with contextlib.suppress(Exception):
                self.backend.drop_view(name, force=True)
        self.tables, self.views = [], []


def _counts(
    backend: Any, table: ir.Table, batch_ids: list[str], *, flagged: bool = False
) -> dict[str, int]:
    # Grouped over the whole table and picked here: an IN list of hundreds of batch ids costs
    # more to compile than the count costs to run.
    if not batch_ids:
        return {}
    wanted = set(batch_ids)
    count = (table._flags != "[]").sum() if flagged else table.count()
    grouped = table.group_by("_batch_id").aggregate(n=count)
    result = backend.to_pyarrow(grouped).to_pylist()
    return {row["_batch_id"]: int(row["n"]) for row in result if row["_batch_id"] in wanted}


def ingest_feeds(
    workspace: Workspace,
    paths: Iterable[Path] | None = None,
    *,
    backend: Any = None,
    encoding: str | None = None,
    as_of: date | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> IngestResult:
    """Ingest new department feeds into staging tables, quarantine and the batch ledger.

    Args:
        workspace: the workspace (feeds folder, warehouse, `ingest.yaml`, region table).
        paths: files or folders to ingest (default: everything under the feeds folder).
        backend: an Ibis backend (default: the workspace's engine).
        encoding: force the text encoding of CSV files (default: detected per file).
        as_of: the date after which dates count as "in the future" (default: today).
        progress: called with (steps done, description) as files are read.
        workers: processes reading files at once (default: the engine's threads, one for a
            few small files).

    Returns:
        The batches committed and the files skipped because their content was ingested before.

    Raises:
        FeedValidationError: a file cannot be read or mapped (nothing is committed).
        ReconciliationError: counts do not add up (a bug; nothing is committed).
    """
    catalog = load_catalog()
    overrides = load_overrides(workspace.root, catalog)
    if backend is None:
        from dixian.engine import open_backend

        backend = open_backend(workspace)
    if backend.name == "duckdb":
        # DuckDB draws its own bar for long queries, over ours (and into --json output).
        backend.con.execute("SET enable_progress_bar = false")
    as_of = as_of or date.today()
    started = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    result = IngestResult()
    files = discover_feeds(workspace, paths)

    prior = (
        backend.to_pyarrow(backend.table(LEDGER_TABLE)).to_pylist()
        if _existing(backend, LEDGER_TABLE)
        else []
    )
    known_hashes = {row["content_hash"] for row in prior if row["status"] == "committed"}
    latest_by_file: dict[str, dict[str, Any]] = {}
    for row in sorted(prior, key=lambda r: r["batch_seq"]):
        latest_by_file[row["source_file"]] = row
    next_seq = max((row["batch_seq"] for row in prior), default=0) + 1

    spool_dir = Path(tempfile.mkdtemp(prefix="dixian-ingest-", dir=_spool_root(workspace)))
    tables = _Tables(backend)
    try:
        tasks: list[FeedTask] = []
        for path in files:
            source = source_name(workspace, path)
            digest = content_hash(path)
            if digest in known_hashes:
                result.unchanged.append(source)
                if progress:
                    progress(1, source)
                continue
            known_hashes.add(digest)
            location = locate_feed(source, catalog, overrides)
            previous = latest_by_file.get(source)
            tasks.append(
                FeedTask(
                    path=path,
                    source_file=source,
                    content_hash=digest,
                    period=location.period,
                    dataset=location.dataset,
                    batch_seq=next_seq,
                    replaces_batch=previous["batch_id"] if previous else None,
                    encoding=encoding or overrides.encoding_for(source),
                    spool_dir=spool_dir,
                    overrides=overrides,
                )
            )
            next_seq += 1
        result.batches = read_all(tasks, workers=worker_count(workspace, tasks, workers),
                                   progress=progress)  # fmt: skip
        datasets = {b.dataset: catalog.dataset(b.dataset) for b in result.batches}
        if not result.batches:
            return result

        replaced = [row["replaces_batch"] for row in prior if row.get("replaces_batch")] + [
            b.replaces_batch for b in result.batches if b.replaces_batch
        ]
        tables.views.append(REGIONS_VIEW)
        regions, region_chars = regions_lookup(workspace, backend, spool_dir)
        context = CheckContext(catalog, regions, as_of, region_chars)
        run_ids = [b.batch_id for b in result.batches]
        to_swap: list[str] = []
        quarantine_parts: list[ir.Table] = []
        accepted_now: dict[str, ir.Table] = {}
        staging_run = StagingRun(
            backend=backend,
            replaced=replaced,
            first_seq=min(b.batch_seq for b in result.batches),
            track=tables.tables.append,
        )
        flagged: dict[str, int] = {}
        accepted: dict[str, int] = {}
        for name, dataset in sorted(datasets.items()):
            raw_name = f"_ingest_raw_{name}"
            raw = backend.read_parquet(spool_glob(spool_dir, name), table_name=raw_name)
            tables.views.append(raw_name)
            checked_expr = _with_lineage(vd.check_dataset(raw, dataset, context), dataset, started)
            staged = stage_dataset(staging_run, dataset, checked_expr)
            to_swap.append(f"{STAGING_PREFIX}{name}")
            accepted_now[name] = staged.accepted_now
            accepted.update(_counts(backend, staged.staging, run_ids))
            flagged.update(_counts(backend, staged.staging, run_ids, flagged=True))
            quarantine_parts.append(staged.rejected)
        written_q, resolved = _next_quarantine(
            backend,
            tables,
            quarantine_parts,
            accepted_now,
            datasets,
            replaces={b.batch_id: b.replaces_batch for b in result.batches if b.replaces_batch},
            replaced=replaced,
            started=started,
        )
        to_swap.append(QUARANTINE_TABLE)
        for record in result.batches:
            record.rows_resolved = resolved.get(record.batch_id, 0)
        result.quarantine = _status_counts(backend, written_q)
        reconcile(result.batches, accepted, _counts(backend, written_q, run_ids), flagged)

        ledger = ledger_table(result.batches)
        if prior:
            ledger = pa.concat_tables([pa.Table.from_pylist(prior, schema=LEDGER_SCHEMA), ledger])
        _write_arrow(backend, f"{LEDGER_TABLE}{NEXT}", ledger, spool_dir, tables)
        to_swap.append(LEDGER_TABLE)
        swap_in_staged(backend, to_swap, suffix=NEXT)
        tables.tables = [t for t in tables.tables if not t.endswith(NEXT)]
        result.datasets = sorted(datasets)
        return result
    finally:
        tables.drop_all()
        shutil.rmtree(spool_dir, ignore_errors=True)


def _next_quarantine(
    backend: Any,
    tables: _Tables,
    parts: list[ir.Table],
    accepted_now: dict[str, ir.Table],
    datasets: dict[str, Dataset],
    *,
    replaces: dict[str, str],
    replaced: list[str],
    started: datetime,
) -> tuple[ir.Table, dict[str, int]]:
    """Write `quarantine__next`: earlier rows, this run's rejected rows, what this run fixed.

    Returns:
        The written table and the number of quarantined rows each batch of this run resolved.
    """
    rows = parts[0]
    for part in parts[1:]:
        rows = rows.union(part)
    if _existing(backend, QUARANTINE_TABLE):
        rows = qr.earlier_rows(backend.table(QUARANTINE_TABLE), rows).union(rows)
    tables.tables.append("_ingest_quarantine_all")
    rows = backend.create_table("_ingest_quarantine_all", rows, overwrite=True)
    waiting = rows.filter(rows.status == qr.OPEN)
    open_by_dataset = backend.to_pyarrow(
        waiting.group_by("dataset").aggregate(n=waiting.count())
    ).to_pylist()
    fixes = [
        qr.resolutions(rows, accepted_now[row["dataset"]], datasets[row["dataset"]], replaces)
        for row in open_by_dataset
        if row["dataset"] in accepted_now
    ]
    fixed: ir.Table | None = None
    resolved: dict[str, int] = {}
    if fixes:
        found = fixes[0]
        for part in fixes[1:]:
            found = found.union(part)
        tables.tables.append("_ingest_resolutions")
        fixed = backend.create_table("_ingest_resolutions", found, overwrite=True)
        by_batch = fixed.group_by("_resolved_batch").aggregate(n=fixed.count())
        resolved = {
            row["_resolved_batch"]: int(row["n"])
            for row in backend.to_pyarrow(by_batch).to_pylist()
        }
    final = qr.final_quarantine(rows, fixed, replaced=replaced, resolved_at=started)
    tables.tables.append(f"{QUARANTINE_TABLE}{NEXT}")
    return backend.create_table(f"{QUARANTINE_TABLE}{NEXT}", final, overwrite=True), resolved


def _status_counts(backend: Any, quarantine: ir.Table) -> dict[str, int]:
    grouped = quarantine.group_by("status").aggregate(n=quarantine.count())
    return {row["status"]: int(row["n"]) for row in backend.to_pyarrow(grouped).to_pylist()}


def _spool_root(workspace: Workspace) -> Path:
    root = workspace.artifacts_dir / "ingest-spool"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _write_arrow(
    backend: Any, name: str, table: pa.Table, spool_dir: Path, tables: _Tables
) -> None:
    # Through a Parquet file, so both engines keep types and nulls exactly.
    path = spool_dir / f"{name}.parquet"
    pq.write_table(table, path)
    view = f"_ingest_src_{name}"
    source = backend.read_parquet(str(path), table_name=view)
    tables.views.append(view)
    tables.tables.append(name)
    backend.create_table(name, source, overwrite=True)
