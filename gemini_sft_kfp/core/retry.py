"""The one place for backoff: retries of idempotent calls, and waits between polls.

``retrying`` / ``call_with_retry`` retry idempotent calls only. Never wrap a create that
the server does not deduplicate (``tuningJobs.create``): a retried create is a second
billed job (``cloud_job`` looks for the job before creating again). Reads, lists,
cancels and deletes are safe. ``backoff`` is the schedule of a loop that decides for
itself when to try again (polls, creates after a look-up).

A server that cannot be reached (connection refused, no such host, connect timeout) is
not a blip: it is retried for ``UNREACHABLE_SECONDS`` at most (a restarting server is
back by then), whatever the policy's own deadline, and then ``Unreachable`` says what
was tried and for how long. Clients connect with ``CONNECT_TIMEOUT_SECONDS``.
``api_core_retry`` is the same rule for an SDK that retries by itself and takes a
google-api-core ``Retry`` (google-cloud-storage's ``retry=``).
"""

from __future__ import annotations

import errno
import functools
import logging
import random
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import tenacity

log = logging.getLogger(__name__)
T = TypeVar("T")

TRANSIENT_HTTP_CODES = frozenset({408, 429, 500, 502, 503, 504})
CONNECT_TIMEOUT_SECONDS = 5.0  # a connection not made by then is a server not there
UNREACHABLE_SECONDS = 10.0  # how long an unreachable server is tried again, by default
_UNREACHABLE_ERRNOS = frozenset(
    {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN}
)
# How SDKs that wrap the socket error without chaining it (urllib3, httpx) spell it.
_UNREACHABLE_WORDS = (
    "connection refused",
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no route to host",
    "network is unreachable",
)


class Unreachable(Exception):
    """A server still unreachable after its bounded retries; the message says what was
    tried and for how long. Not transient, and no ``ConnectionError``: neither an outer
    retry here nor an SDK's own retry (google-cloud-storage's) starts again."""


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps (``__cause__``, ``__context__``, urllib3's ``reason``)."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 16:
        current = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        for inner in (
            current.__cause__,
            current.__context__,
            getattr(current, "reason", None),
            *(a for a in getattr(current, "args", ()) if isinstance(a, BaseException)),
        ):
            if isinstance(inner, BaseException):
                todo.append(inner)
    return seen


def is_unreachable(exc: BaseException) -> bool:
    """True when no connection could be made: refused, no such host, connect timeout.
    An HTTP answer (whatever its message says) came from a server that was reached."""
    if http_status(exc) is not None:
        return False
    for cause in _causes(exc):
        if isinstance(cause, Unreachable | ConnectionRefusedError | socket.gaierror):
            return True
        if isinstance(cause, OSError) and cause.errno in _UNREACHABLE_ERRNOS:
            return True
        if type(cause).__name__ in ("ConnectTimeout", "ConnectTimeoutError"):
            return True
        text = str(cause).lower()
        if any(word in text for word in _UNREACHABLE_WORDS):
            return True
    return False


def http_status(exc: BaseException) -> int | None:
    """The HTTP status carried by an SDK exception, whichever SDK raised it."""
    for attr in ("code", "status_code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    response = getattr(exc, "response", None)
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


def is_transient(exc: BaseException) -> bool:
    """True for throttling, server errors, timeouts and dropped connections."""
    if isinstance(exc, Unreachable):
        return False
    status = http_status(exc)
    if status is not None:
        return status in TRANSIENT_HTTP_CODES
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    name = type(exc).__name__
    module = type(exc).__module__
    # httpx / requests / urllib3 transport errors, without importing them all here.
    transport = (
        "ConnectError",
        "ReadError",
        "RemoteProtocolError",
        "ReadTimeout",
        "ConnectTimeout",
        "ConnectionError",
        "ChunkedEncodingError",
        "IncompleteRead",
        "ProtocolError",
        "WriteError",
        "ServiceUnavailable",
        "TooManyRequests",
        "InternalServerError",
        "GatewayTimeout",
        "DeadlineExceeded",
        "RetryError",
    )
    return name in transport and module.split(".")[0] in {
        "httpx",
        "requests",
        "urllib3",
        "google",
        "http",
    }


def retrying(
    *,
    initial: float = 1.0,
    maximum: float = 30.0,
    deadline: float = 300.0,
    attempts: int | None = None,
    retry_on: Callable[[BaseException], bool] = is_transient,
    unreachable_deadline: float | None = None,
) -> tenacity.Retrying:
    """A tenacity policy: exponential backoff with jitter, bounded in time and attempts;
    an unreachable server is given up on after ``unreachable_deadline`` seconds of it
    (default ``UNREACHABLE_SECONDS``)."""
    bound = UNREACHABLE_SECONDS if unreachable_deadline is None else unreachable_deadline
    stop = tenacity.stop_after_delay(deadline) | _stop_unreachable(bound)
    if attempts is not None:
        stop = stop | tenacity.stop_after_attempt(attempts)
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(retry_on),
        wait=tenacity.wait_exponential_jitter(initial=initial, max=maximum),
        stop=stop,
        reraise=True,
        before_sleep=lambda state: log.warning(
            "transient error (%s), retry %d in %.1fs",
            state.outcome.exception() if state.outcome else "?",
            state.attempt_number,
            state.next_action.sleep if state.next_action else 0.0,
        ),
    )


def _stop_unreachable(bound: float) -> Callable[[tenacity.RetryCallState], bool]:
    """Stop when the server, unreachable since the first such error in a row, would still
    be by the end of the next wait past ``bound`` seconds."""

    def stop(state: tenacity.RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if exc is None or not is_unreachable(exc):
            state.unreachable_since = None
            return False
        now = time.monotonic()
        since = getattr(state, "unreachable_since", None)
        if since is None:
            since = state.unreachable_since = (now, state.idle_for)
        # the time slept counts even where sleeping is stubbed out (tests)
        spent = max(now - since[0], state.idle_for - since[1])
        return spent + state.upcoming_sleep > bound

    return stop


def call_with_retry(
    fn: Callable[..., T], *args, policy: tenacity.Retrying | None = None, **kwargs
) -> T:
    """Call an idempotent ``fn`` under ``policy`` (default: ``retrying()``).

    A server that stayed unreachable raises ``Unreachable`` (chained to the last error),
    whose message gives the error, the attempts and the seconds spent.
    """
    policy = policy or retrying()
    start = time.monotonic()
    attempts = 0

    def attempt(*a, **kw):
        nonlocal attempts
        attempts += 1
        return fn(*a, **kw)

    try:
        return policy(attempt, *args, **kwargs)
    except Unreachable:
        raise
    except Exception as exc:
        if not is_unreachable(exc):
            raise
        raise Unreachable(_gave_up(exc, attempts, time.monotonic() - start)) from exc


def _gave_up(exc: BaseException, attempts: int, seconds: float) -> str:
    """What ``Unreachable`` says: the error, the attempts and the seconds spent."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return (
        f"{first} (tried {attempts} time{'s' if attempts != 1 else ''} over {seconds:.0f}s; "
        "a server that cannot be reached is not tried longer)"
    )


def api_core_retry(*, timeout: float) -> Any:
    """This module's rule as a google-api-core ``Retry``, for an SDK that retries by itself
    (google-cloud-storage: pass it as ``retry=``). Transient errors are retried with the
    SDK's usual backoff until ``timeout``; a server that cannot be reached is given up on
    after ``UNREACHABLE_SECONDS`` of it with ``Unreachable``, which no retry starts again.
    """
    return _bounded_retry_class()(predicate=is_transient, timeout=timeout)


@functools.cache
def _bounded_retry_class() -> type:
    """Built on first use: google-api-core is not imported by every user of this module."""
    from google.api_core import retry as api_retry

    class BoundedRetry(api_retry.Retry):
        """``Retry`` whose every call keeps its own ``_UnreachableBound``."""

        def __call__(self, func, on_error=None):
            on_error = self._on_error or on_error

            @functools.wraps(func)
            def retried(*args, **kwargs):
                waits = api_retry.exponential_sleep_generator(
                    self._initial, self._maximum, multiplier=self._multiplier
                )
                bound = _UnreachableBound(waits, on_error)
                return api_retry.retry_target(
                    functools.partial(func, *args, **kwargs),
                    self._predicate,
                    bound.waits(),
                    timeout=self._timeout,
                    on_error=bound.check,
                )

            return retried

    return BoundedRetry


class _UnreachableBound:
    """One retried call's unreachable streak: ``check`` (api-core's ``on_error``, run
    before each wait) raises ``Unreachable`` once the server, unreachable since the first
    such error in a row, would still be by the end of the next wait past
    ``UNREACHABLE_SECONDS``; the rule ``retrying`` applies."""

    def __init__(self, waits: Iterator[float], on_error: Callable[[Exception], Any] | None):
        self._waits = waits
        self._on_error = on_error
        self._upcoming: float | None = None  # drawn by check, slept next
        self._since: float | None = None
        self._slept = 0.0
        self._attempts = 0

    def waits(self) -> Iterator[float]:
        while True:
            wait = next(self._waits) if self._upcoming is None else self._upcoming
            self._upcoming = None
            self._slept += wait
            yield wait

    def check(self, exc: Exception) -> None:
        if self._on_error is not None:
            self._on_error(exc)
        if not is_unreachable(exc):
            self._since = None
            return
        now = time.monotonic()
        if self._since is None:
            self._since, self._slept, self._attempts = now, 0.0, 0
        self._attempts += 1
        self._upcoming = next(self._waits)
        # the time slept counts even where sleeping is stubbed out (tests)
        spent = max(now - self._since, self._slept)
        if spent + self._upcoming > UNREACHABLE_SECONDS:
            raise Unreachable(_gave_up(exc, self._attempts, spent)) from exc


def backoff(
    initial: float, maximum: float, *, factor: float = 1.5, jitter: bool = False
) -> Iterator[float]:
    """Waits ``initial``, ``initial * factor``, ... capped at ``maximum``.

    With ``jitter`` each wait is scaled by a random 0.5-1.0, so that many clients that
    failed together do not retry together.
    """
    interval = max(0.0, initial)
    while True:
        delay = min(interval, maximum)
        yield delay * random.uniform(0.5, 1.0) if jitter else delay
        interval = max(interval * factor, 0.001)
