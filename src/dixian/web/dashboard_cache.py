"""The dashboard's figures, computed once per jurisdiction and version of the data.

The figures are aggregates over every case of a jurisdiction and over the warehouse's
household-period panel (tens of thousands of cases, millions of panel rows in a county of a
million people), while the data behind them changes a few times a day. Each process keeps
them in a small LRU cache keyed by what they depend on:

- the warehouse part by the jurisdiction and the warehouse file's stamp (size and time of
  the DuckDB file and its WAL): a pipeline run changes the stamp;
- the case part by the jurisdiction, today's date (overdue cases), the warehouse stamp
  (the window's last month, the registry's monitoring objects) and the change watermark:
  the ledger sequence number of the latest committed change of case data.

Every change of case data writes its audit entry in its own transaction, and entries get
their sequence numbers under the chain head's lock at commit, so sequence order is commit
order and the watermark moves with every committed change; reads of the ledger since the
previous look are a range of the primary key. A cached figure is therefore never older than
the last committed change (no time-to-live is involved); one request per key computes
while concurrent requests for the same key wait for its result.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dixian.cases.actor import Actor
from dixian.cases.ledger_models import AuditEntry
from dixian.web.dashboard import DashboardFigures, dashboard_figures
from dixian.web.warehouse import WarehouseFigures, dashboard_warehouse_figures, file_stamp

_T = TypeVar("_T")


def _always(_value: object) -> bool:
    return True


class DashboardCache:
    """A thread-safe LRU of computed figures with one computation per key at a time."""

    def __init__(self, max_entries: int = 512) -> None:
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._max_entries = max_entries
        self.hits = 0
        self.misses = 0

    def get(
        self, key: Hashable, compute: Callable[[], _T], *, keep: Callable[[_T], bool] = _always
    ) -> _T:
        """The value cached under `key`, else `compute()`, kept when `keep(value)` holds."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return cast(_T, self._entries[key])
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._entries:
                    self.hits += 1
                    return cast(_T, self._entries[key])
                self.misses += 1
            try:
                value = compute()
                if keep(value):
                    with self._lock:
                        self._entries[key] = value
                        while len(self._entries) > self._max_entries:
                            self._entries.popitem(last=False)
                return value
            finally:
                with self._lock:
                    self._computing.pop(key, None)


# Ledger events that change no case, clue or household (views, sign-ins, account and audit
# work). Any other event moves the watermark; an event missing here only costs a recompute.
NO_DATA_CHANGE: frozenset[str] = frozenset(
    {
        "ACCESS_DENIED",
        "ACCOUNT_LOCKED",
        "APPLICATION_VERIFIED",
        "AUDIT_PURGED",
        "AUDIT_QUERIED",
        "AUDIT_VERIFIED",
        "CASES_LISTED",
        "CASE_VIEWED",
        "CREDENTIALS_ISSUED",
        "EXPORTED",
        "HOUSEHOLD_VIEWED",
        "LINKAGE_REVIEWED",
        "LOGIN_FAILED",
        "LOGIN_SUCCEEDED",
        "LOGOUT",
        "MFA_FAILED",
        "PASSWORD_CHANGED",
        "PASSWORD_CHANGE_FAILED",
        "PASSWORD_RESET",
        "PERMISSION_DENIED",
        "PI_UNMASKED",
        "SESSIONS_ENDED",
        "SESSION_EXPIRED",
        "TRANSITION_REFUSED",
        "USER_CREATED",
        "USER_DISABLED",
        "USER_ENABLED",
        "USER_ROLE_CHANGED",
    }
)


class ChangeWatermark:
    """The sequence number of the latest ledger entry that changed case data.

    Kept per process and brought up to date by reading only the entries appended since the
    previous call. `current` answers None when the caller's snapshot is older than what
    this process has already seen (a figure computed there must not be cached).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checked: int | None = None
        self._change = 0

    def current(self, session: Session) -> int | None:
        """The watermark as of the session's snapshot, or None (see the class)."""
        with self._lock:
            after, change = self._checked, self._change
        changed = AuditEntry.event_code.not_in(NO_DATA_CHANGE)
        top = int(session.scalar(select(func.max(AuditEntry.seq))) or 0)
        if after is None:
            # Walks back from the newest entry over views only, once per process.
            last = session.scalar(
                select(AuditEntry.seq).where(changed).order_by(AuditEntry.seq.desc()).limit(1)
            )
            change = int(last or 0)
        elif top < after:
            return None
        elif top > after:
            last = session.scalar(
                select(func.max(case((changed, AuditEntry.seq)))).where(AuditEntry.seq > after)
            )
            change = max(change, int(last or 0))
        with self._lock:
            if self._checked is None or top > self._checked:
                self._checked, self._change = top, change
        return change


@dataclass(frozen=True)
class DashboardData:
    """The case figures and the warehouse figures of one dashboard."""

    figures: DashboardFigures
    warehouse: WarehouseFigures


def dashboard_data(
    cache: DashboardCache,
    watermark: ChangeWatermark,
    session: Session,
    *,
    actor: Actor,
    today: date,
    warehouse_path: Path,
) -> DashboardData:
    """The dashboard of the actor's jurisdiction, from the cache when the data is unchanged."""
    jurisdiction = actor.jurisdiction
    stamp = file_stamp(warehouse_path)
    # None while a pipeline holds the warehouse: such an answer lacks it and is not kept.
    found = cache.get(
        ("warehouse", jurisdiction, stamp),
        lambda: dashboard_warehouse_figures(warehouse_path, jurisdiction=jurisdiction),
        keep=lambda value: value is not None,
    )
    readable = found is not None
    warehouse = found if found is not None else WarehouseFigures()
    changed = watermark.current(session)
    figures = cache.get(
        ("cases", jurisdiction, today, stamp, readable, changed),
        lambda: dashboard_figures(
            session,
            actor=actor,
            today=today,
            end_month=warehouse.latest_period,
            monitored_by_period=warehouse.monitored_by_period,
        ),
        keep=lambda _value: readable and changed is not None,
    )
    return DashboardData(figures=figures, warehouse=warehouse)
