"""Test hooks: injected faults (status, random rate, latency) and the log of served calls."""

from __future__ import annotations

import fnmatch
import random
import threading
import time
from dataclasses import dataclass

from gemini_sft_kfp.emulator.common.api_errors import ApiError, invalid

_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "method": (str,),
    "status": (int,),
    "times": (int,),
    "rate": (int, float),
    "latency_ms": (int, float),
    "after": (bool,),
}


def _is_a(value: object, types: tuple[type, ...]) -> bool:
    """isinstance, except that a JSON true/false is not a number."""
    return (bool in types) if isinstance(value, bool) else isinstance(value, types)


@dataclass
class Fault:
    """One rule. ``method`` is a REST method name or a glob (``*``, ``*.generateContent``)."""

    method: str
    status: int | None = None
    times: int | None = None  # fail the next N matching calls, then the rule is spent
    rate: float | None = None  # fail this fraction of matching calls (until cleared)
    latency_ms: float = 0.0
    after: bool = False  # run the call, then fail: "the response was lost"

    def matches(self, method: str) -> bool:
        return self.method == method or fnmatch.fnmatchcase(method, self.method)

    @classmethod
    def from_json(cls, body: dict) -> Fault:
        if not isinstance(body, dict) or not isinstance(body.get("method"), str):
            raise invalid('fault needs "method" (a REST method name such as tuningJobs.create)')
        unknown = set(body) - set(_FIELD_TYPES)
        if unknown:
            raise invalid(f"unknown fault fields {sorted(unknown)}; known: {sorted(_FIELD_TYPES)}")
        for key, types in _FIELD_TYPES.items():
            value = body.get(key)
            if value is not None and not _is_a(value, types):
                names = " or ".join(t.__name__ for t in types)
                raise invalid(f"fault field {key!r} must be {names}, got {value!r}")
        status = body.get("status")
        if status is not None and not (400 <= status <= 599):
            raise invalid("fault status must be an HTTP error status (400-599)")
        if status is None and not body.get("latency_ms"):
            raise invalid('fault needs "status" or "latency_ms"')
        rate = body.get("rate")
        if rate is not None and not (0.0 <= rate <= 1.0):
            raise invalid("fault rate must be between 0 and 1")
        times = body.get("times")
        if times is not None and times < 1:
            raise invalid("fault times must be at least 1")
        latency = body.get("latency_ms") or 0.0
        if not 0.0 <= latency <= 600_000:
            raise invalid("fault latency_ms must be between 0 and 600000")
        if status is not None and rate is None and times is None:
            times = 1
        return cls(
            method=body["method"],
            status=status,
            times=times,
            rate=float(rate) if rate is not None else None,
            latency_ms=float(latency),
            after=bool(body.get("after", False)),
        )


@dataclass
class Decision:
    """What the faults say about one call: wait this long, then maybe fail (before or after)."""

    latency_s: float = 0.0
    error: ApiError | None = None
    after: bool = False


class Faults:
    """Thread-safe rule set consulted once per served call."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []
        self._random = random.Random(seed)

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._rules.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict]:
        with self._lock:
            return [dict(vars(rule)) for rule in self._rules]

    def decide(self, method: str) -> Decision:
        decision = Decision()
        with self._lock:
            for rule in list(self._rules):
                if not rule.matches(method):
                    continue
                decision.latency_s = max(decision.latency_s, rule.latency_ms / 1000.0)
                if rule.status is None or decision.error is not None:
                    if rule.status is None and rule.times is not None:
                        self._spend(rule)
                    continue
                if rule.rate is not None and self._random.random() >= rule.rate:
                    continue
                decision.error = ApiError(
                    rule.status, f"injected fault for {method} (emulator test hook)"
                )
                decision.after = rule.after
                self._spend(rule)
        return decision

    def _spend(self, rule: Fault) -> None:
        if rule.times is None:
            return
        rule.times -= 1
        if rule.times <= 0:
            self._rules.remove(rule)


class RequestLog:
    """Every call served, in order: ``{"method": str, "status": int}`` (``verbose``: with
    the request ``path`` and ``time`` too)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[tuple[str, int, str, float]] = []

    def add(self, method: str, status: int, path: str = "") -> None:
        with self._lock:
            self._entries.append((method, status, path, time.time()))

    def entries(self, verbose: bool = False) -> list[dict]:
        with self._lock:
            entries = list(self._entries)
        if verbose:
            return [{"method": m, "status": s, "path": p, "time": t} for m, s, p, t in entries]
        return [{"method": m, "status": s} for m, s, _, _ in entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
