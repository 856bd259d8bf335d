"""`dixian ingest` (department feeds → staging) and `dixian quality` (data-quality report)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from dixian.cli_options import JsonOption, WorkspaceOption
from dixian.config import Workspace
from dixian.console import info, print_summary, progress_bar


def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to ingest (default: everything new under feeds/)."),
    ] = None,
    workspace: WorkspaceOption = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="Text encoding of CSV files, e.g. gbk (default: detected per file)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest department feeds (导入部门数据): staging tables, quarantine, batch ledger."""
    from dixian.ingest.files import discover_feeds
    from dixian.ingest.run import ingest_feeds

    opened = Workspace.open(workspace)
    files = discover_feeds(opened, paths)
    with progress_bar("导入 ingesting", total=len(files)) as advance:
        result = ingest_feeds(
            opened,
            paths,
            encoding=encoding,
            progress=lambda step, name: advance(step, description=f"导入 {name}"),
        )
    figures: dict[str, Any] = result.figures()
    figures["by_dataset"] = _by_dataset(result.batches)
    if not as_json:
        info(f"批次台账 batch ledger: {len(result.batches)} new batch(es), "
             f"{len(result.unchanged)} file(s) unchanged")  # fmt: skip
    print_summary("导入 ingest", figures, as_json=as_json)


def _by_dataset(batches: list[Any]) -> dict[str, dict[str, int]]:
    summary: dict[str, dict[str, int]] = {}
    for batch in batches:
        entry = summary.setdefault(
            batch.dataset, {"batches": 0, "read": 0, "accepted": 0, "quarantined": 0}
        )
        entry["batches"] += 1
        entry["read"] += batch.rows_read
        entry["accepted"] += batch.rows_accepted
        entry["quarantined"] += batch.rows_quarantined
    return dict(sorted(summary.items()))


def quality(
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the data-quality report (数据质量报告) as HTML and JSON; print the scores."""
    from dixian.engine import open_backend
    from dixian.ingest.quality import quality_report
    from dixian.ingest.quality_html import render_quality_html

    opened = Workspace.open(workspace)
    from dixian.errors import UserError
    from dixian.ingest.ledger import LEDGER_TABLE

    backend = open_backend(opened, read_only=True) if opened.warehouse_path.exists() else None
    if backend is None or LEDGER_TABLE not in backend.list_tables():
        raise UserError(f"{opened.warehouse_path}: nothing ingested yet; run 'dixian ingest' first")
    with progress_bar("数据质量 measuring quality", total=None):
        report = quality_report(backend, workspace_name=opened.config.workspace.name)
    opened.reports_dir.mkdir(parents=True, exist_ok=True)
    json_path = opened.reports_dir / "quality.json"
    html_path = opened.reports_dir / "quality.html"
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    html_path.write_text(render_quality_html(report), encoding="utf-8")
    figures: dict[str, Any] = {
        "overall_score": report["overall"]["score"],
        "rows": report["overall"]["rows"],
        "rows_quarantined": report["overall"]["rows_quarantined"],
        "quarantine": report["overall"]["quarantine"],
        "department_scores": {name: d["score"] for name, d in report["departments"].items()},
        "cross_checks": {code: c["records"] for code, c in report["cross_checks"].items()},
        "html": str(html_path),
        "json": str(json_path),
    }
    print_summary("数据质量 data quality", figures, as_json=as_json)


def register(app: typer.Typer) -> None:
    """Add `ingest` and `quality` to the dixian command."""
    app.command("ingest")(ingest)
    app.command("quality")(quality)
