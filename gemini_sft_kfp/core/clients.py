"""One client factory for every component: the emulator when its variables are set, else ADC.

``VERTEX_AI_EMULATOR_HOST`` (e.g. ``http://127.0.0.1:8090``) points google-genai and
google-cloud-aiplatform at the local emulator; ``STORAGE_EMULATOR_HOST`` does the same
for google-cloud-storage (which honours it natively). Without them the real services
are used with Application Default Credentials.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keep CLI start-up fast: the SDKs are imported on first use
    from google.cloud import storage
    from google.genai import Client as GenaiClient

VERTEX_EMULATOR_ENV = "VERTEX_AI_EMULATOR_HOST"
STORAGE_EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
EMULATOR_TOKEN = "emulator-token"  # the emulator accepts any bearer token
EMULATOR_PROJECT_NUMBER = "123456789012"  # the number the emulator's buckets report
# google-genai waits forever without a timeout (connect included): every call gets one.
DEFAULT_TIMEOUT_MS = 300_000


def _with_scheme(host: str) -> str:
    host = host.strip().rstrip("/")
    return host if host.startswith(("http://", "https://")) else f"http://{host}"


def vertex_emulator_url() -> str | None:
    """The emulator's base URL, or None when talking to the real Vertex AI."""
    host = os.environ.get(VERTEX_EMULATOR_ENV)
    return _with_scheme(host) if host else None


def storage_emulator_url() -> str | None:
    host = os.environ.get(STORAGE_EMULATOR_ENV)
    return _with_scheme(host) if host else None


def vertex_base_url(location: str) -> str:
    """Base URL of the regional Vertex AI REST endpoint (or of the emulator)."""
    emulator = vertex_emulator_url()
    if emulator:
        return emulator
    if location == "global":
        return "https://aiplatform.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"


def genai_client(
    project: str,
    location: str,
    *,
    api_version: str = "v1",
    extra_body: dict | None = None,
    timeout_ms: int | None = None,
) -> GenaiClient:
    """A google-genai client on Vertex AI (tuning, generate_content, count_tokens)."""
    from google import genai
    from google.genai import types

    http_options = types.HttpOptions(
        api_version=api_version, extra_body=extra_body, timeout=timeout_ms or DEFAULT_TIMEOUT_MS
    )
    emulator = vertex_emulator_url()
    if emulator:
        from google.oauth2.credentials import Credentials

        http_options.base_url = emulator
        return genai.Client(
            vertexai=True,
            project=project,
            location=location,
            credentials=Credentials(token=EMULATOR_TOKEN),
            http_options=http_options,
        )
    return genai.Client(
        vertexai=True, project=project, location=location, http_options=http_options
    )


def storage_client(project: str | None = None) -> storage.Client:
    """A google-cloud-storage client; it honours STORAGE_EMULATOR_HOST by itself. Pass
    ``storage_retry()`` as ``retry=`` to each of its calls."""
    from google.cloud import storage

    if storage_emulator_url():
        from google.auth.credentials import AnonymousCredentials

        anonymous = AnonymousCredentials()
        from gemini_sft_kfp.core.project import EMULATOR_PROJECT

        return storage.Client(project=project or EMULATOR_PROJECT, credentials=anonymous)
    return storage.Client(project=project)


def storage_retry():
    """The ``retry=`` of every google-cloud-storage call: the library's own deadline for
    transient errors, but a storage server that cannot be reached is given up on after
    ``retry.UNREACHABLE_SECONDS`` (``retry.Unreachable``), where the library's default
    would try it for two minutes."""
    from google.cloud.storage.retry import DEFAULT_RETRY

    from gemini_sft_kfp.core import retry

    return retry.api_core_retry(timeout=DEFAULT_RETRY.timeout)


def init_aiplatform(project: str, location: str, **kwargs) -> None:
    """Initialise google-cloud-aiplatform; against the emulator: REST, anonymous, http://."""
    from google.cloud import aiplatform

    emulator = vertex_emulator_url()
    if emulator:
        from google.auth.credentials import AnonymousCredentials

        kwargs.setdefault("credentials", AnonymousCredentials())
        kwargs.setdefault("api_endpoint", emulator)
        kwargs.setdefault("api_transport", "rest")
        _skip_resource_manager()
    aiplatform.init(project=project, location=location, **kwargs)


def _skip_resource_manager() -> None:
    """PipelineJob.submit() asks Cloud Resource Manager for the project number (60 s of
    retries without a network); against the emulator the number is a known constant."""
    from google.cloud.aiplatform.utils import resource_manager_utils

    resource_manager_utils.get_project_number = lambda *args, **kwargs: EMULATOR_PROJECT_NUMBER


def _gapic_client(client_class, location: str):
    """A Vertex AI GAPIC client built directly: what ``aiplatform.init`` + the SDK's
    client wrappers would make, without importing the SDK (about 3 s in a task)."""
    from google.api_core.client_options import ClientOptions
    from google.api_core.gapic_v1.client_info import ClientInfo

    from gemini_sft_kfp import __version__

    info = ClientInfo(user_agent=f"gemini-sft-kfp/{__version__}")
    emulator = vertex_emulator_url()
    if emulator:
        from google.auth.credentials import AnonymousCredentials

        return client_class(
            credentials=AnonymousCredentials(),
            transport="rest",
            client_options=ClientOptions(api_endpoint=emulator),
            client_info=info,
        )
    host = vertex_base_url(location).removeprefix("https://")
    return client_class(client_options=ClientOptions(api_endpoint=host), client_info=info)


def pipeline_service_client(location: str):
    """GAPIC ``PipelineServiceClient`` (get, cancel a pipeline job)."""
    from google.cloud.aiplatform_v1.services.pipeline_service import PipelineServiceClient

    return _gapic_client(PipelineServiceClient, location)


def schedule_service_client(location: str):
    """GAPIC ``ScheduleServiceClient`` (get, pause a schedule)."""
    from google.cloud.aiplatform_v1.services.schedule_service import ScheduleServiceClient

    return _gapic_client(ScheduleServiceClient, location)


def model_service_client(project: str, location: str):
    """GAPIC ``ModelServiceClient`` (versions, aliases, patch, delete)."""
    from google.cloud.aiplatform_v1.services.model_service import ModelServiceClient

    return _gapic_client(ModelServiceClient, location)


def endpoint_service_client(project: str, location: str):
    """GAPIC ``EndpointServiceClient`` (get, undeploy, delete)."""
    from google.cloud.aiplatform_v1.services.endpoint_service import EndpointServiceClient

    return _gapic_client(EndpointServiceClient, location)
