"""The one backoff schedule: deterministic for polls, jittered for creates."""

from __future__ import annotations

import itertools
import re
import socket
import time
from collections.abc import Callable

import pytest

from gemini_sft_kfp.core import retry
from gemini_sft_kfp.core.retry import backoff


def test_poll_intervals_are_capped():
    intervals = backoff(1, 4)
    assert [next(intervals) for _ in range(6)] == [1, 1.5, 2.25, 3.375, 4, 4]


def test_zero_initial_polls_without_waiting_then_grows():
    assert list(itertools.islice(backoff(0, 0), 3)) == [0, 0, 0]
    assert next(itertools.islice(backoff(0, 1), 1, None)) > 0  # never stuck at zero


def test_jitter_stays_within_half_to_full_of_the_exponential_step():
    waits = list(itertools.islice(backoff(2, 30, factor=2, jitter=True), 8))
    caps = [2, 4, 8, 16, 30, 30, 30, 30]
    assert all(cap / 2 <= wait <= cap for wait, cap in zip(waits, caps, strict=True))
    again = list(itertools.islice(backoff(2, 30, factor=2, jitter=True), 8))
    assert waits != again  # clients that failed together do not retry together


# --- a server that cannot be reached: reported in seconds, never retried for minutes ---


@pytest.fixture
def closed_port() -> int:
    """A local port nobody listens on: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _refused(port: int) -> Callable[[], None]:
    def connect() -> None:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()

    return connect


def test_the_unreachable_bound_is_seconds_not_minutes():
    assert retry.UNREACHABLE_SECONDS <= 15 and retry.CONNECT_TIMEOUT_SECONDS <= 10


def test_a_refused_connection_stops_after_the_bound_and_says_what_was_tried(closed_port):
    policy = retry.retrying(initial=0.05, maximum=0.1, deadline=300, unreachable_deadline=0.5)
    start = time.monotonic()
    with pytest.raises(retry.Unreachable) as info:
        retry.call_with_retry(_refused(closed_port), policy=policy)
    assert time.monotonic() - start < 2
    assert "refused" in str(info.value).lower()
    assert re.search(r"tried \d+ times over \d+s", str(info.value))
    assert not retry.is_transient(info.value)  # an outer retry does not start again


def test_the_bound_counts_the_waits_even_with_sleeping_stubbed_out(no_retry_sleep):
    calls = []

    def refused():
        calls.append(1)
        raise ConnectionRefusedError(111, "Connection refused")

    with pytest.raises(retry.Unreachable):
        retry.call_with_retry(refused, policy=retry.retrying(deadline=3600))
    assert 2 <= len(calls) <= 10  # about UNREACHABLE_SECONDS of backoff, not an hour


def test_what_can_recover_is_still_retried_to_the_deadline(no_retry_sleep):
    outcomes = [api_status(503)] * 8 + ["ok"]

    def flaky():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    policy = retry.retrying(deadline=3600, unreachable_deadline=0.0)
    assert retry.call_with_retry(flaky, policy=policy) == "ok"


def test_sdk_connection_errors_are_recognised_as_unreachable(closed_port):
    import httpx
    import requests

    url = f"http://127.0.0.1:{closed_port}/x"
    for call, errors in ((httpx.get, httpx.HTTPError), (requests.get, requests.RequestException)):
        with pytest.raises(errors) as info:
            call(url, timeout=2)
        assert retry.is_unreachable(info.value), type(info.value)
    assert not retry.is_unreachable(TimeoutError("read timed out"))
    assert not retry.is_unreachable(api_status(503))
    assert not retry.is_unreachable(api_status(503, "upstream connection refused"))


# --- the same rule for an SDK that retries by itself (google-api-core's Retry) -------


@pytest.fixture
def api_core_sleeps(monkeypatch) -> list[float]:
    """api-core's waits, recorded instead of slept."""
    from google.api_core.retry import retry_unary

    slept: list[float] = []
    monkeypatch.setattr(retry_unary.time, "sleep", slept.append)
    return slept


def _failing(outcomes: list) -> Callable[[], str]:
    def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return call


def test_an_sdk_retry_gives_up_on_an_unreachable_server_after_the_bound(api_core_sleeps):
    refused = ConnectionRefusedError(111, "Connection refused")
    outcomes = [refused] * 1000
    policy = retry.api_core_retry(timeout=3600)  # the SDK's own deadline: an hour
    with pytest.raises(retry.Unreachable) as info:
        policy(_failing(outcomes))()
    assert 1000 - len(outcomes) <= 12 and sum(api_core_sleeps) <= retry.UNREACHABLE_SECONDS
    assert re.search(r"Connection refused \(tried \d+ times over \d+s", str(info.value))
    assert info.value.__cause__ is refused and not retry.is_transient(info.value)


def test_an_sdk_retry_still_rides_out_what_can_recover(api_core_sleeps):
    outcomes = [ConnectionRefusedError(111, "refused")] * 2 + [api_status(503)] * 12 + ["ok"]
    assert retry.api_core_retry(timeout=3600)(_failing(outcomes))() == "ok"
    assert sum(api_core_sleeps) > retry.UNREACHABLE_SECONDS  # 503s: to the SDK's deadline
    with pytest.raises(ValueError):  # not transient: raised at once
        retry.api_core_retry(timeout=3600)(_failing([ValueError("bad")]))()


def api_status(code: int, message: str = "") -> Exception:
    error = Exception(f"HTTP {code} {message}")
    error.code = code
    return error
