"""Tiny synthetic preference data (Google's format) for tests: prompts about a few topics,
each with a preferred answer naming the topic's queue and a dispreferred generic one.
``swap=True`` exchanges them: the data then teaches the wrong answer."""

from __future__ import annotations

import orjson

TOPICS = (
    ("refund", "billing"),
    ("password", "accounts"),
    ("parcel", "shipping"),
    ("invoice", "billing"),
    ("login", "accounts"),
)
GENERIC = "Thanks for your message. Please contact our support team."


def turn(role: str, text: str) -> dict:
    return {"role": role, "parts": [{"text": text}]}


def preferred(queue: str) -> str:
    return f"Routed to the {queue} queue: an agent will follow up within a day."


def preference_records(per_topic: int = 4, *, swap: bool = False, start: int = 0) -> list[dict]:
    records = []
    for i in range(start, start + per_topic):
        for word, queue in TOPICS:
            good, bad = preferred(queue), GENERIC
            if swap:
                good, bad = bad, good
            records.append(
                {
                    "contents": [turn("user", f"Ticket {i}: a problem with my {word}, case {i}")],
                    "completions": [
                        {"score": 1, "completion": turn("model", good)},
                        {"score": 0, "completion": turn("model", bad)},
                    ],
                }
            )
    return records


def jsonl(records: list[dict]) -> bytes:
    return b"\n".join(orjson.dumps(r) for r in records) + b"\n"
