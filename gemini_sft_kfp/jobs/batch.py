"""Vertex AI batch prediction jobs as a ``jobs.kinds.JobKind``.

Created, read and cancelled with google-genai's ``batches`` (the model resource name
and a ``gs://`` JSONL source, as Google's samples do). google-genai's ``BatchJob``
carries no labels, so the look-up by idempotency label reads the REST list through
the same client's transport (``_api_client.request``, as ``batches.list`` does) rather
than importing google-cloud-aiplatform (~200 MB and seconds of CPU for one list); the
labels go into the create body verbatim.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import orjson

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.jobs.kinds import GenaiClient, user_rejection

RESOURCE_TYPE = "BatchPredictionJob"
CREATE_TIMEOUT_MS = 120_000


class BatchPredictionJobs(GenaiClient):
    """``client.batches`` of a google-genai client on Vertex AI (+ GAPIC for listing)."""

    resource_type = RESOURCE_TYPE
    noun = "batch prediction job"
    field = "batch_prediction_job"

    def get(self, client: Any, name: str) -> Any:
        return client.batches.get(name=name)

    def list(self, client: Any, filter_text: str) -> list:
        """Jobs with their labels (every page)."""
        jobs, token = [], ""
        while True:
            query = {"pageSize": 100, **({"filter": filter_text} if filter_text else {})}
            if token:
                query["pageToken"] = token
            page = get_json(client, f"batchPredictionJobs?{urlencode(query)}")
            jobs += [
                SimpleNamespace(
                    name=job["name"],
                    state=job.get("state", "JOB_STATE_UNSPECIFIED"),
                    labels=job.get("labels") or {},
                    create_time=job.get("createTime", ""),
                )
                for job in page.get("batchPredictionJobs", [])
            ]
            token = page.get("nextPageToken", "")
            if not token:
                return jobs

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
        return user_rejection(exc, "batch prediction service", field="method")

    def detail(self, job: Any) -> str:
        """Batch prediction jobs report no detailed state beyond ``state``."""
        return ""


BATCH_PREDICTION_JOBS = BatchPredictionJobs()


def get_json(client: Any, path: str) -> dict:
    """GET a Vertex AI REST path (relative to the client's project and location, or a
    full ``projects/...`` name) through a google-genai client's transport."""
    response = client._api_client.request("get", path, {})
    return orjson.loads(response.body or "{}")
