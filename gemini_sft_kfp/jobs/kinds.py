"""What differs between job kinds: the ``JobKind`` protocol, and a refused create as a
user's mistake. ``tuning.TUNING_JOBS`` and ``batch.BATCH_PREDICTION_JOBS`` implement it,
each bound to its client the same way (``kind.client(project, location)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from gemini_sft_kfp.core import retry
from gemini_sft_kfp.core.errors import UserError

READ_TIMEOUT_MS = 60_000  # a hung get/list times out and is retried, never blocks forever


class JobKind(Protocol):
    """The job-kind-specific calls and names; everything else is shared."""

    resource_type: str  # ``resourceType`` in gcp_resources, e.g. "TuningJob"
    noun: str  # in messages, e.g. "tuning job"
    field: str  # the input that names a job of this kind, e.g. "tuning_job"

    def get(self, client: Any, name: str) -> Any: ...

    def list(self, client: Any, filter_text: str) -> list: ...

    def cancel(self, client: Any, name: str) -> None: ...

    def rejection(self, exc: BaseException) -> UserError | None:
        """The error to show when a create was refused for a reason the user must fix."""
        ...

    def detail(self, job: Any) -> str:
        """The service's detailed state of a running job ("" when it has none), e.g.
        ``WAITING_FOR_QUOTA``."""
        ...


USER_REJECTION_CODES = frozenset({400, 403, 404, 409})


class GenaiClient:
    """The client of a job kind served by google-genai on Vertex AI (tuning, batch)."""

    @staticmethod
    def client(project: str, location: str) -> Any:
        """A client whose reads time out (and are retried) instead of hanging."""
        from gemini_sft_kfp.core.clients import genai_client

        return genai_client(project, location, timeout_ms=READ_TIMEOUT_MS)


def user_rejection(
    exc: BaseException,
    service: str,
    *,
    hints: Mapping[int, str] | None = None,
    field: str | None = None,
) -> UserError | None:
    """A create refused for a reason the user must fix (bad argument, permission,
    missing model or data) as one line naming ``service``; None for anything else."""
    status = retry.http_status(exc)
    if status not in USER_REJECTION_CODES:
        return None
    message = getattr(exc, "message", None) or str(exc)
    return UserError(
        f"the {service} rejected the job: {status} {message}{(hints or {}).get(status, '')}",
        field=field,
        code=str(status),
    )
