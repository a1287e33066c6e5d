"""Vertex AI tuning jobs as a ``jobs.kinds.JobKind``: the google-genai calls, nothing more."""

from __future__ import annotations

import warnings
from typing import Any

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.jobs.kinds import GenaiClient, user_rejection

RESOURCE_TYPE = "TuningJob"
CREATE_TIMEOUT_MS = 120_000

_REJECTION_HINTS = {
    403: " (check that the caller, and the service account if given, may create "
    "tuning jobs and read the dataset)",
    404: " (check project, location, the base or pre-tuned model and the dataset URIs)",
}


class TuningJobs(GenaiClient):
    """``client.tunings`` of a google-genai client on Vertex AI."""

    resource_type = RESOURCE_TYPE
    noun = "tuning job"
    field = "tuning_job"

    def get(self, client: Any, name: str) -> Any:
        return client.tunings.get(name=name)

    def list(self, client: Any, filter_text: str) -> list:
        config = {"page_size": 100, **({"filter": filter_text} if filter_text else {})}
        return list(client.tunings.list(config=config))

    def cancel(self, client: Any, name: str) -> None:
        client.tunings.cancel(name=name)

    def create(
        self,
        client: Any,
        *,
        base_model: str,
        training_dataset_uri: str,
        config: dict,
        labels: dict[str, str],
        extra_body: dict | None = None,
    ) -> Any:
        """``tunings.tune``; ``extra_body`` fields go verbatim into the REST body."""
        from google.genai import types

        http_options = types.HttpOptions(timeout=CREATE_TIMEOUT_MS)
        if extra_body:
            http_options.extra_body = extra_body
        job_config = types.CreateTuningJobConfig(
            **{**config, "labels": labels}, http_options=http_options
        )
        with warnings.catch_warnings():  # tunings.tune is stable on Vertex; the SDK warns anyway
            warnings.filterwarnings("ignore", message=".*tuning implementation is experimental")
            return client.tunings.tune(
                base_model=base_model,
                training_dataset=types.TuningDataset(gcs_uri=training_dataset_uri),
                config=job_config,
            )

    def detail(self, job: Any) -> str:
        """google-genai's ``tuning_job_state`` (``WAITING_FOR_QUOTA``, ``TUNING``, ...)."""
        state = getattr(job, "tuning_job_state", None)
        if state is None:
            return ""
        value = str(getattr(state, "value", state))
        return "" if value.endswith("UNSPECIFIED") else value.removeprefix("TUNING_JOB_STATE_")

    def rejection(self, exc: BaseException) -> UserError | None:
        """Rejections the user must fix (bad argument, permission, missing model or data)."""
        return user_rejection(exc, "tuning service", hints=_REJECTION_HINTS)


TUNING_JOBS = TuningJobs()
