"""The rate limiter's spacing and thread safety; the gate's documented semantics."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.evaluation.gate import decide
from gemini_sft_kfp.evaluation.rate_limit import HEADROOM, RateLimiter


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_slots_are_evenly_spaced_without_an_initial_burst():
    clock = FakeClock()
    limiter = RateLimiter(120, clock=clock, sleep=clock.sleep)  # one per 0.5 s (/ headroom)
    starts = []
    for _ in range(5):
        limiter.acquire()
        starts.append(clock.now)
    step = 0.5 / HEADROOM
    assert starts == pytest.approx([100.0 + i * step for i in range(5)])


def test_idle_time_is_not_banked_into_a_burst():
    clock = FakeClock()
    limiter = RateLimiter(60, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.now += 30  # idle
    before = clock.now
    limiter.acquire()
    assert clock.now == before  # no wait after a long idle...
    limiter.acquire()
    assert clock.now == pytest.approx(before + 1.0 / HEADROOM)  # ...and no burst after it


def test_a_late_wake_delays_later_requests_instead_of_bunching_them():
    interval = 0.05  # 1,200 rpm (/ headroom)
    overshoot = 2.2 * interval  # one thread's sleeps overrun by 2.2 intervals

    def sleep(seconds: float) -> None:
        late = threading.current_thread().name == "slow"
        time.sleep(seconds + (overshoot if late else 0.0))

    limiter = RateLimiter(60 / interval, sleep=sleep)
    sends: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(4):
            limiter.acquire()
            with lock:
                sends.append(time.monotonic())

    threads = [
        threading.Thread(target=worker, name="slow" if i == 0 else f"w{i}") for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sends.sort()
    gaps = [b - a for a, b in itertools.pairwise(sends)]
    # A precomputed schedule lets the slow thread send ~0.2 interval after another one.
    assert min(gaps) >= 0.6 * interval


def test_no_limit_never_waits():
    clock = FakeClock()
    limiter = RateLimiter(0, clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        limiter.acquire()
    assert clock.now == 100.0


def test_threads_never_start_faster_than_the_limit():
    limiter = RateLimiter(60 * 200)  # 200 per second: 5 ms apart
    starts: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(10):
            limiter.acquire()
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    starts.sort()
    assert len(starts) == 80
    # 80 starts need at least 79 intervals (sleep may overshoot, never undershoot)
    assert starts[-1] - starts[0] >= 79 * 0.005 * 0.98


def test_gate_threshold_only_without_baseline():
    assert decide("exact_match", 0.8, None, threshold=0.8).passed
    assert not decide("exact_match", 0.79, None, threshold=0.8).passed


def test_gate_improvement_margin_is_inclusive_despite_floating_point():
    result = decide("rouge_l", 0.7, 0.6, min_improvement=0.1)
    assert result.passed and [c.name for c in result.checks] == ["improvement"]
    assert not decide("rouge_l", 0.69, 0.6, min_improvement=0.1).passed
    # zero margin: at least as good as the baseline
    assert decide("rouge_l", 0.6, 0.6).passed
    assert not decide("rouge_l", 0.59, 0.6).passed


def test_gate_modes_all_and_any():
    # meets threshold, does not beat the baseline
    assert not decide("bleu", 0.5, 0.6, threshold=0.4, mode="all").passed
    assert decide("bleu", 0.5, 0.6, threshold=0.4, mode="any").passed
    # neither
    assert not decide("bleu", 0.3, 0.6, threshold=0.4, mode="any").passed
    # only the chosen check counts
    assert decide("bleu", 0.5, 0.6, threshold=0.4, mode="threshold").passed
    assert not decide("bleu", 0.5, 0.6, threshold=0.4, mode="improvement").passed


def test_gate_edge_cases():
    open_gate = decide("exact_match", 0.1, None)
    assert open_gate.passed and "no criterion" in open_gate.reason
    assert not decide("exact_match", 1.0, None, answered=0).passed
    with pytest.raises(UserError, match="baseline"):
        decide("exact_match", 0.5, None, mode="improvement")
    with pytest.raises(UserError, match="metric"):
        decide("accuracy_typo", 0.5, None)
    with pytest.raises(UserError, match="gate mode"):
        decide("exact_match", 0.5, None, mode="some")
