"""SQLite WAL checkpoints on a background thread, off the path of page requests.

With SQLite's default, the commit that takes the write-ahead log past 1,000 pages copies the
log into the database file and waits for the disk to flush it (the checkpoint). Every read of
personal data commits an audit entry, so under load that commit belongs to a page view, and
each request queued behind the write lock waits for the flush as well: on a busy disk, a
second or more (bench_web: the household page's p95 was almost all such waits).

The web app therefore raises the log size at which a commit checkpoints by itself to
`AUTOCHECKPOINT_PAGES` (a safety net when no checkpointer runs, e.g. in a TestClient without
its lifespan) and runs `WalCheckpointer`: a thread that copies the log into the database
every `interval` seconds with a PASSIVE checkpoint, which waits for no reader or writer. A
commit stays as durable as before: it is in the log when the response leaves (WAL with
`synchronous=NORMAL`: it survives a crash of the process; only a power cut may lose the last
commits, see `dixian.cases.db`); the checkpoint only moves it into the main file.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger("dixian.web")

# 16,000 pages of 4 KiB: 64 MiB of log before a commit would checkpoint by itself.
AUTOCHECKPOINT_PAGES = 16_000


def defer_checkpoints(engine: Engine) -> None:
    """Let the web app's writer connections leave checkpoints to `WalCheckpointer`."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        cursor.close()

    # Connections opened before the listener keep SQLite's default; close them.
    engine.dispose(close=False)


class WalCheckpointer:
    """Checkpoints a SQLite database's write-ahead log every `interval` seconds.

    Args:
        path: the database file.
        interval: seconds between checkpoints.
    """

    def __init__(self, path: Path, *, interval: float = 1.0) -> None:
        self._path = path
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.checkpoints = 0

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="dixian-wal-checkpoint", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread after a last checkpoint."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def checkpoint(self, connection: sqlite3.Connection) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, frames in the log, frames copied)."""
        row = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.checkpoints += 1
        return int(row[0]), int(row[1]), int(row[2])

    def _run(self) -> None:
        try:
            # The sqlite3 module releases the GIL while SQLite copies and flushes, so the
            # request threads of this process keep running meanwhile.
            # mode=rw: never create the database file (an app started before `dixian db
            # upgrade` must not leave an empty one behind).
            connection = sqlite3.connect(
                f"{self._path.resolve().as_uri()}?mode=rw",
                uri=True,
                timeout=5,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            log.warning("WAL checkpointer not started: %s", exc)
            return
        try:
            while not self._stop.wait(self._interval):
                self._checkpoint_logged(connection)
            self._checkpoint_logged(connection)
        finally:
            connection.close()

    def _checkpoint_logged(self, connection: sqlite3.Connection) -> None:
        try:
            self.checkpoint(connection)
        except sqlite3.Error as exc:
            # Busy or locked by another process's checkpoint: the next round tries again.
            log.debug("WAL checkpoint skipped: %s", exc)


def sqlite_file(engine: Engine) -> Path | None:
    """The database file of a file-backed SQLite engine, else None."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database)
