"""Vertex AI job states, grouped the way callers decide: keep waiting, done, or failed.

Shared by tuning-job and pipeline-job code so "is it over?" has one answer.
"""

from __future__ import annotations

SUCCEEDED = "JOB_STATE_SUCCEEDED"
FAILED = "JOB_STATE_FAILED"
CANCELLED = "JOB_STATE_CANCELLED"
EXPIRED = "JOB_STATE_EXPIRED"
PARTIALLY_SUCCEEDED = "JOB_STATE_PARTIALLY_SUCCEEDED"  # batch prediction: some results

# Ended: polling longer changes nothing.
TERMINAL_STATES = frozenset({SUCCEEDED, FAILED, CANCELLED, EXPIRED, PARTIALLY_SUCCEEDED})
# Ended without a usable result.
FAILED_STATES = frozenset({FAILED, CANCELLED, EXPIRED})
# Still alive (and possibly billing): worth reusing instead of creating another job.
ACTIVE_STATES = frozenset(
    {
        "JOB_STATE_PENDING",
        "JOB_STATE_QUEUED",
        "JOB_STATE_RUNNING",
        "JOB_STATE_CANCELLING",
        "JOB_STATE_PAUSED",
        "JOB_STATE_UPDATING",
    }
)


def state_name(state: object) -> str:
    """``JobState.JOB_STATE_RUNNING`` (SDK enum) or its string -> ``"JOB_STATE_RUNNING"``."""
    if state is None:
        return "JOB_STATE_UNSPECIFIED"
    value = getattr(state, "value", state)
    return str(value)


def is_terminal(state: object) -> bool:
    return state_name(state) in TERMINAL_STATES
