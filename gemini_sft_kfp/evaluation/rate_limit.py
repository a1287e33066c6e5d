"""A client-side requests-per-minute limit shared by all worker threads.

Evenly spaced grants rather than a bursty token bucket: quota on Vertex AI is counted
per minute, but a burst of N requests at start-up is what trips 429s. A caller waits
for its grant while holding the lock, and the next grant is measured from the moment
the previous caller actually woke, not from a precomputed schedule: a thread that
wakes late then delays the requests after it instead of sending right next to them,
so no window of consecutive requests ever runs faster than the limit. Grants are
spaced for 99 % of the limit, leaving room for the short hop from grant to send.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

HEADROOM = 0.99


class RateLimiter:
    """``acquire()`` blocks until the caller may send one request. ``rpm <= 0``: no limit."""

    def __init__(
        self,
        requests_per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.requests_per_minute = requests_per_minute
        rate = requests_per_minute * HEADROOM
        self.interval = 60.0 / rate if requests_per_minute > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._last_grant: float | None = None

    def acquire(self) -> None:
        """Wait until at least one interval has passed since the previous grant."""
        if self.interval == 0.0:
            return
        with self._lock:
            now = self._clock()
            if self._last_grant is not None:
                wait = self._last_grant + self.interval - now
                if wait > 0:
                    self._sleep(wait)
                    now = self._clock()
            self._last_grant = now
