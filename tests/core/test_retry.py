"""The one backoff schedule: deterministic for polls, jittered for creates."""

from __future__ import annotations

import itertools

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
