"""A client-side requests-per-minute limit shared by all worker threads.

Evenly spaced slots rather than a bursty token bucket: quota on Vertex AI is counted
per minute, but a burst of N requests at start-up is what trips 429s. Each caller
reserves the next free slot under a lock and sleeps outside it, so one request starts
per ``60 / (HEADROOM * rpm)`` seconds at most. The slots are spaced for 99 % of the limit
so that threads waking late (and then sending closer together) never push any window
of requests over the limit the server counts.
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
        self._next_slot: float | None = None

    def reserve(self) -> float:
        """Claim the next slot; returns how long the caller must wait for it (seconds)."""
        if self.interval == 0.0:
            return 0.0
        with self._lock:
            now = self._clock()
            slot = now if self._next_slot is None else max(now, self._next_slot)
            self._next_slot = slot + self.interval
            return slot - now

    def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
