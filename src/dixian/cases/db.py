"""Opening the case database: engines for SQLite and PostgreSQL, sessions, migrations.

`CasesDatabase.from_workspace(ws)` is what the CLI, the monitoring stage and the web app
use; each `db.session()` is one transaction that carries the audit key and the workflow
settings to the service layer in `session.info`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dixian.cases.audit import (
    AUDIT_QUEUE,
    AuditKey,
    append_entry,
    discard_queue,
    flush_queue,
    load_audit_key,
)
from dixian.cases.settings import CaseSettings
from dixian.config import Workspace
from dixian.errors import ConfigError, DixianError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_PENDING_DENIALS = "pending_denials"


def create_cases_engine(url: str, *, read_only: bool = False) -> Engine:
    """A SQLAlchemy engine for the case database, tuned per backend.

    SQLite: foreign keys on, WAL, a busy timeout, and `BEGIN IMMEDIATE` so that two writers
    queue up instead of failing on a read-to-write lock upgrade. With `read_only` (SQLite
    only): `query_only` connections whose plain `BEGIN` takes no write lock, so readers run
    beside the writer (WAL) instead of queueing behind it.
    """
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})
            _tune_sqlite(engine, read_only=read_only)
            return engine
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(f"cases.database_url: cannot use '{redact_url(url)}': {exc}") from exc


def _tune_sqlite(engine: Engine, *, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below take over
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL stays consistent after a crash; only a power cut may lose the last
        # commits, which is acceptable for the single-office default (PostgreSQL in production).
        cursor.execute("PRAGMA synchronous=NORMAL")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def redact_url(url: str) -> str:
    """The URL with its password replaced by ***."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def _alembic_config(connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade_database(engine: Engine, *, revision: str = "head") -> tuple[str | None, str | None]:
    """Run the Alembic migrations up to `revision` (default: the newest).

    Returns:
        (revision before, revision after).
    """
    try:
        with engine.begin() as connection:
            before = MigrationContext.configure(connection).get_current_revision()
            command.upgrade(_alembic_config(connection), revision)
            after = MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise ConfigError(
            f"case database {redact_url(str(engine.url))}: cannot connect or migrate: "
            f"{str(exc.orig).splitlines()[0]}"
        ) from exc
    return before, after


def downgrade_database(engine: Engine, *, revision: str) -> None:
    """Migrate down to `revision` ("base" empties the database; the ledger goes with it)."""
    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    """The migration revision the database is at (None when empty)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest migration revision shipped with this version of dixian."""
    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()


def grant_app_role(engine: Engine, *, role: str) -> None:
    """On PostgreSQL, give the application's role what it needs and no more.

    Run as the owner (migration) role. The app may read and write the case tables, may only
    read and append the ledger, and may purge only through `dixian_audit_purge`.
    """
    if engine.dialect.name != "postgresql":
        raise ConfigError("grant_app_role applies to PostgreSQL only")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ConfigError(f"'{role}' is not a plain PostgreSQL role name")
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, audit_purges FROM {role}",
        f"REVOKE DELETE, TRUNCATE ON audit_chain_head FROM {role}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"GRANT EXECUTE ON FUNCTION dixian_audit_purge(bigint) TO {role}",
    ]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


@dataclass
class CasesDatabase:
    """An open case database: engine, session factory, audit key and workflow settings."""

    engine: Engine
    audit_key: AuditKey
    settings: CaseSettings = field(default_factory=CaseSettings)

    def __post_init__(self) -> None:
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._reader: Engine | None = None
        self._reader_lock = threading.Lock()

    @classmethod
    def open(
        cls, url: str, *, audit_key: AuditKey, settings: CaseSettings | None = None
    ) -> CasesDatabase:
        """Open a database by SQLAlchemy URL."""
        return cls(create_cases_engine(url), audit_key, settings or CaseSettings())

    @classmethod
    def from_workspace(cls, workspace: Workspace, *, create_key: bool = False) -> CasesDatabase:
        """Open the workspace's case database with its audit key and settings."""
        key = load_audit_key(workspace.root, create=create_key)
        return cls.open(
            workspace.cases_database_url,
            audit_key=key,
            settings=CaseSettings.from_workspace(workspace),
        )

    def new_session(self) -> Session:
        """A session carrying the audit key and settings (caller manages the transaction)."""
        session = self._sessions()
        session.info["audit_key"] = self.audit_key
        session.info["settings"] = self.settings
        session.info[_PENDING_DENIALS] = []
        session.info[AUDIT_QUEUE] = []
        event.listen(session, "before_commit", self._before_commit)
        event.listen(session, "after_rollback", discard_queue)
        return session

    def _before_commit(self, session: Session) -> None:
        self._flush_denials(session)
        flush_queue(session, key=self.audit_key)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on error.

        Access denials noted by the service (AC-03: a record outside the jurisdiction is
        reported as not found, but the attempt is audited) survive the rollback: they are
        written to the ledger in a transaction of their own.
        """
        session = self.new_session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            denials = list(session.info.get(_PENDING_DENIALS, []))
            if denials:
                self._write_denials(denials)
            raise
        finally:
            session.close()

    @contextmanager
    def read_session(self, *, audit_sink: AuditSink | None = None) -> Iterator[Session]:
        """One read-only transaction; its audit entries are written before this returns.

        For pages that only read: on SQLite it does not take the write lock (several readers
        and one writer at a time), on PostgreSQL it is an ordinary transaction. The audit
        entries the service queues (a read of personal data, an access denial) are handed
        to `audit_sink` when the block ends, successfully or not, and the block returns only
        once the sink returned: the entry is committed before the caller can answer with the
        data (fail closed: if the sink raises, so does this). The default sink appends them
        in a transaction of their own; the web app passes a group commit. A flush of changed
        rows raises: writes belong in `session()`.
        """
        session = self._read_sessions()
        session.info["audit_key"] = self.audit_key
        session.info["settings"] = self.settings
        session.info[_PENDING_DENIALS] = []
        session.info[AUDIT_QUEUE] = []
        event.listen(session, "before_flush", _refuse_writes)
        sink = audit_sink or self.append_entries
        try:
            yield session
        except BaseException:
            denials = list(session.info[_PENDING_DENIALS])
            session.close()
            if denials:
                sink(denials)
            raise
        entries = [*session.info[_PENDING_DENIALS], *session.info[AUDIT_QUEUE]]
        # close() ends the transaction without expiring what was loaded (a rollback would).
        session.close()
        if entries:
            sink(entries)

    def _read_sessions(self) -> Session:
        if self.engine.dialect.name != "sqlite":
            return self._sessions()
        with self._reader_lock:
            if self._reader is None:
                self._reader = create_cases_engine(
                    self.engine.url.render_as_string(hide_password=False), read_only=True
                )
        return Session(self._reader, expire_on_commit=False)

    def append_entries(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Append audit entries (keyword arguments of `append_entry`) in one transaction."""
        with self._sessions.begin() as session:
            for entry in entries:
                append_entry(session, key=self.audit_key, flush=False, **entry)
            session.flush()

    def _flush_denials(self, session: Session) -> None:
        pending = session.info.get(_PENDING_DENIALS, [])
        for denial in pending:
            append_entry(session, key=self.audit_key, **denial)
        pending.clear()

    def _write_denials(self, denials: list[Any]) -> None:
        self.append_entries(denials)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self._reader is not None:
            self._reader.dispose()


AuditSink = Callable[[Sequence[Mapping[str, Any]]], None]


def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    raise DixianError("a read-only case-database session tried to write; use session()")
