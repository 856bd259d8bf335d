"""A small in-process sliding-window rate limiter (WEB-06).

Keys are explicit strings chosen by the caller (`"self-report:<ip>"`, `"export:<user>"`), so
two endpoints never share a counter by accident, the problem slowapi issues #75/#173 report
for key functions derived from endpoint names. State is per process: with several uvicorn
workers each enforces its own window, which is stricter per worker and documented in
`docs/web.md`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime


class RateLimiter:
    """Allow at most `limit` events per `window_seconds` for each key."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._clock = clock or (lambda: datetime.now(UTC))

    def hit(self, key: str, *, limit: int, window_seconds: float) -> bool:
        """Record an event for `key`; False (and nothing recorded) when over the limit."""
        now = self._clock().timestamp()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - window_seconds:
                events.popleft()
            if len(events) >= limit:
                return False
            events.append(now)
            return True

    def reset(self) -> None:
        """Forget every counter."""
        with self._lock:
            self._events.clear()
