"""Cheap reads before a create: a wrong URI or model fails in a second, not as a job.

Only a definite answer stops the launch: "not found" or "empty". When the launcher's
identity may not read the bucket (the job's service account might), the check is
skipped and the service decides.
"""

from __future__ import annotations

import logging

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.models import check_adapter_size
from gemini_sft_kfp.core.retry import call_with_retry, http_status
from gemini_sft_kfp.core.storage import split_gcs_uri

log = logging.getLogger(__name__)


def check_datasets_exist(project: str, uris: list[str], *, client=None) -> None:
    """Each gs:// dataset exists and is not empty (403: skipped, the service will check)."""
    from gemini_sft_kfp.core.clients import storage_client, storage_retry

    if client is None:
        client = storage_client(project)
    for uri in uris:
        bucket, name = split_gcs_uri(uri, field="dataset_uri")
        try:
            blob = client.bucket(bucket).get_blob(name, retry=storage_retry())
        except Exception as exc:
            if http_status(exc) in (401, 403):
                log.info("cannot read %s to check it (%s); the tuning service will", uri, exc)
                continue
            raise
        if blob is None:
            raise UserError(
                "dataset not found (check the bucket and object name)",
                file=uri,
                field="dataset_uri",
            )
        if not blob.size:
            raise UserError("dataset is empty", file=uri, field="dataset_uri")


def check_pre_tuned_model(client, name: str, adapter_size) -> None:
    """Continuous tuning: the model must exist, and the adapter size suit its base model.

    The tuned model's own base model (its ``google-vertex-llm-tuning-base-model-id``
    label) decides, not the ``base_model`` input.
    """
    try:
        model = call_with_retry(client.models.get, model=name)
    except Exception as exc:
        if http_status(exc) in (403, 404):
            raise UserError(
                f"pre_tuned_model {name} cannot be read ({http_status(exc)}): check the name, "
                "project and location",
                field="pre_tuned_model",
            ) from exc
        raise
    info = getattr(model, "tuned_model_info", None)
    base = getattr(info, "base_model", None) if info else None
    if base and adapter_size:
        # the label form of a model id: gemini-2_5-flash -> gemini-2.5-flash
        check_adapter_size(base.replace("_", "."), adapter_size)
