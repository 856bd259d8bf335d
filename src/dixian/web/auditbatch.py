"""Group commit of the audit entries that page reads write (HOUSEHOLD_VIEWED and the like).

Every view of personal data is audited, so under load most requests append to the ledger,
and the ledger is one hash chain whose head row every append locks until its transaction
commits. One transaction per entry makes that row the bottleneck: each commit (a WAL write,
on PostgreSQL a disk flush) is paid while every other request waits for the row.

Here the request threads of one process hand their entries to `AuditBatcher.write`, which
returns only once they are committed. Whoever arrives while no commit is running becomes the
leader: it takes every entry queued so far, its own and those of the threads that arrived
meanwhile, appends them in one transaction and wakes their threads. So the guarantee is
the same as with one transaction per request (the entry is durable before the page is sent,
and if it cannot be written the request fails: fail closed, AUD-04), at one commit per batch.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from dixian.cases.db import AuditSink


@dataclass
class _Ticket:
    entries: Sequence[Mapping[str, Any]]
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class AuditBatcher:
    """Appends the audit entries of concurrent requests in shared transactions.

    Args:
        append: writes a list of entries in one transaction (`CasesDatabase.append_entries`).
        write_lock: the app's SQLite write lock, held while appending (None on PostgreSQL).
    """

    def __init__(self, append: AuditSink, *, write_lock: threading.RLock | None = None) -> None:
        self._append = append
        self._write_lock = write_lock
        self._queue: list[_Ticket] = []
        self._queue_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self.commits = 0

    def write(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Append the entries; returns once they are committed, raises if they could not be."""
        ticket = _Ticket(entries)
        with self._queue_lock:
            self._queue.append(ticket)
        with self._commit_lock:
            if not ticket.done.is_set():
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._commit(batch)
        if ticket.error is not None:
            raise ticket.error

    def _commit(self, batch: list[_Ticket]) -> None:
        try:
            try:
                self._append_all([entry for ticket in batch for entry in ticket.entries])
            except Exception:
                if len(batch) == 1:
                    raise
                # One request's bad entry must not fail the others: retry each on its own.
                for ticket in batch:
                    try:
                        self._append_all(ticket.entries)
                    except Exception as single:
                        ticket.error = single
        except BaseException as exc:
            for ticket in batch:
                ticket.error = ticket.error or exc
        finally:
            for ticket in batch:
                ticket.done.set()

    def _append_all(self, entries: Sequence[Mapping[str, Any]]) -> None:
        with self._write_lock or nullcontext():
            self._append(entries)
        self.commits += 1
