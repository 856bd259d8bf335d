"""The feed files of a run: finding them, naming and hashing them, reading them into the spool.

A run ingests the files under the feeds folder whose content hash the ledger has not seen.
Their names are POSIX paths relative to `W/feeds` (the lineage's `source_file`); a
correction file (`2024-01.correction.csv`) sorts right after the batch it corrects. Reading
(`spool.read_batch`) runs in worker processes when there is enough to read.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from dixian.config import Workspace
from dixian.errors import FeedValidationError
from dixian.ingest.ledger import BatchRecord
from dixian.ingest.spool import FeedTask, read_batch

FEED_SUFFIXES = {".csv", ".xlsx", ".xlsm", ".parquet"}
_PARALLEL_BYTES = 16 << 20

Progress = Callable[[int, str | None], None]


def discover_feeds(workspace: Workspace, paths: Iterable[Path] | None = None) -> list[Path]:
    """Feed files under the given paths (default: the workspace's feeds folder), sorted."""
    roots = list(paths) if paths else [workspace.feeds_dir]
    found: set[Path] = set()
    for root in roots:
        if root.is_dir():
            found.update(p for p in root.rglob("*") if p.suffix.lower() in FEED_SUFFIXES)
        elif root.is_file():
            found.add(root)
        else:
            raise FeedValidationError(f"{root}: no such file or folder")
    return sorted(found, key=_feed_order)


def _feed_order(path: Path) -> tuple[str, str, int, str]:
    # A correction file (`2024-01.correction.csv`) follows the batch it corrects.
    stem = path.name.split(".")[0]
    return (path.parent.as_posix(), stem, int(".correction" in path.name.lower()), path.name)


def source_name(workspace: Workspace, path: Path) -> str:
    """The file's lineage name: relative to the feeds folder, POSIX separators."""
    try:
        return path.resolve().relative_to(workspace.feeds_dir.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def content_hash(path: Path) -> str:
    """SHA-256 of the file's bytes: a file whose content the ledger has seen is skipped."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def worker_count(workspace: Workspace, tasks: list[FeedTask], asked: int | None) -> int:
    """Processes to read with: as asked, else one for little work, else the engine's threads."""
    if asked is not None:
        return max(1, asked)
    size = sum(task.path.stat().st_size for task in tasks)
    if len(tasks) < 4 or size < _PARALLEL_BYTES:
        return 1  # starting worker processes costs more than it saves
    return max(1, min(workspace.config.engine.threads, os.cpu_count() or 1))


def read_all(
    tasks: list[FeedTask], *, workers: int, progress: Progress | None
) -> list[BatchRecord]:
    """Read every new file into the spool, in worker processes when `workers` > 1.

    The largest files are handed out first, so the workers finish together; the records
    come back in batch order.
    """
    if workers <= 1:
        records = []
        for task in tasks:
            records.append(read_batch(task))
            if progress:
                progress(1, task.source_file)
        return records
    by_seq: dict[int, BatchRecord] = {}
    ordered = sorted(tasks, key=lambda t: t.path.stat().st_size, reverse=True)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(read_batch, task): task for task in ordered}
        try:
            for future in as_completed(futures):
                record = future.result()
                by_seq[record.batch_seq] = record
                if progress:
                    progress(1, futures[future].source_file)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return [by_seq[task.batch_seq] for task in tasks]
