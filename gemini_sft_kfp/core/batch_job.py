"""Vertex AI batch prediction jobs as a ``cloud_job.JobKind``.

Created, read and cancelled with google-genai's ``batches`` (the model resource name
and a ``gs://`` JSONL source, as Google's samples do). google-genai's ``BatchJob``
carries no labels, so the look-up by idempotency label lists through the GAPIC
``JobServiceClient`` instead; the labels go into the create body verbatim.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from gemini_sft_kfp.core.cloud_job import READ_TIMEOUT_MS
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.retry import http_status

RESOURCE_TYPE = "BatchPredictionJob"
CREATE_TIMEOUT_MS = 120_000


class BatchPredictionJobs:
    """``client.batches`` of a google-genai client on Vertex AI (+ GAPIC for listing)."""

    resource_type = RESOURCE_TYPE
    noun = "batch prediction job"
    field = "batch_prediction_job"

    def __init__(self, project: str, location: str) -> None:
        self.project = project
        self.location = location

    def client(self) -> Any:
        from gemini_sft_kfp.core.clients import genai_client

        return genai_client(self.project, self.location, timeout_ms=READ_TIMEOUT_MS)

    def get(self, client: Any, name: str) -> Any:
        return client.batches.get(name=name)

    def list(self, client: Any, filter_text: str) -> list:
        """Jobs with their labels (state as its name, as ``job_states`` reads it)."""
        from gemini_sft_kfp.core.clients import job_service_client

        service = job_service_client(self.project, self.location)
        parent = f"projects/{self.project}/locations/{self.location}"
        request = {"parent": parent, "page_size": 100}
        if filter_text:
            request["filter"] = filter_text
        return [
            SimpleNamespace(
                name=job.name,
                state=job.state.name,
                labels=dict(job.labels),
                create_time=job.create_time,
            )
            for job in service.list_batch_prediction_jobs(request=request)
        ]

    def cancel(self, client: Any, name: str) -> None:
        client.batches.cancel(name=name)

    def create(
        self,
        client: Any,
        *,
        model: str,
        source_uri: str,
        destination_uri: str,
        display_name: str,
        labels: dict[str, str],
    ) -> Any:
        from google.genai import types

        config = types.CreateBatchJobConfig(
            display_name=display_name,
            dest=destination_uri,
            http_options=types.HttpOptions(
                timeout=CREATE_TIMEOUT_MS, extra_body={"labels": dict(labels)}
            ),
        )
        return client.batches.create(model=model, src=source_uri, config=config)

    def rejection(self, exc: BaseException) -> UserError | None:
        status = http_status(exc)
        if status not in (400, 403, 404, 409):
            return None
        message = getattr(exc, "message", None) or str(exc)
        return UserError(
            f"the batch prediction service rejected the job: {status} {message}",
            field="method",
            code=str(status),
        )
