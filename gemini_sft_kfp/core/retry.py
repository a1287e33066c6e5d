"""The one place for backoff: retries of idempotent calls, and waits between polls.

``retrying`` / ``call_with_retry`` retry idempotent calls only. Never wrap a create that
the server does not deduplicate (``tuningJobs.create``): a retried create is a second
billed job (``cloud_job`` looks for the job before creating again). Reads, lists,
cancels and deletes are safe. ``backoff`` is the schedule of a loop that decides for
itself when to try again (polls, creates after a look-up).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from typing import TypeVar

import tenacity

log = logging.getLogger(__name__)
T = TypeVar("T")

TRANSIENT_HTTP_CODES = frozenset({408, 429, 500, 502, 503, 504})


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
) -> tenacity.Retrying:
    """A tenacity policy: exponential backoff with jitter, bounded in time and attempts."""
    stop = tenacity.stop_after_delay(deadline)
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


def call_with_retry(
    fn: Callable[..., T], *args, policy: tenacity.Retrying | None = None, **kwargs
) -> T:
    """Call an idempotent ``fn`` under ``policy`` (default: ``retrying()``)."""
    return (policy or retrying())(fn, *args, **kwargs)


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
