"""A lean ``generateContent`` caller: one keep-alive connection per worker thread.

Why not google-genai for the hot loop: measured on a 2-core machine against the
emulator in its own process (1,000 requests, 16 in flight, ``bench/evaluate.py``),
the SDK spends 2.2-2.5 ms of client CPU a request (pydantic models in and out,
httpx's one shared connection pool locked by 16 threads) and ``client.aio`` 2.9 ms;
httpx with one client per worker 1.4-1.5 ms, urllib3 0.7 ms, and the standard
library's ``http.client`` with one connection per worker thread 0.3-0.4 ms. The body
is the REST JSON google-genai itself sends (a test compares them), so what a model
is sent does not depend on the transport.

Real Vertex AI: HTTPS to ``{location}-aiplatform.googleapis.com`` with Application
Default Credentials (refreshed under a lock before they expire) and an HTTPS proxy
from the environment when one is set; the emulator: plain HTTP with any token.
"""

from __future__ import annotations

import datetime
import http.client
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass

import orjson

from gemini_sft_kfp.core.clients import EMULATOR_TOKEN, vertex_base_url, vertex_emulator_url

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
TOKEN_REFRESH_MARGIN_SECONDS = 300  # refresh five minutes before the token expires


class HttpError(Exception):
    """A non-2xx answer; ``code`` is the HTTP status (what ``retry.http_status`` reads)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


class TransportError(ConnectionError):
    """The connection broke mid-exchange (``http.client`` protocol error): transient."""


def model_path(model: str, project: str, location: str) -> str:
    """The resource path google-genai derives: endpoints as given, model ids under
    ``publishers/google/models``."""
    if model.startswith(("projects/", "publishers/")):
        return model
    if model.startswith("models/"):
        model = model[len("models/") :]
    return f"projects/{project}/locations/{location}/publishers/google/models/{model}"


class _Credentials:
    """Bearer headers: ADC refreshed under a lock; the emulator takes any token."""

    def __init__(self, project: str) -> None:
        self._lock = threading.Lock()
        self._static = vertex_emulator_url() is not None
        self._credentials = None
        self._headers: dict[str, str] = {"authorization": f"Bearer {EMULATOR_TOKEN}"}
        self._expires = float("inf") if self._static else 0.0
        self._project = project

    def headers(self) -> dict[str, str]:
        if time.time() < self._expires:
            return self._headers
        with self._lock:
            if time.time() >= self._expires:
                self._refresh()
            return self._headers

    def _refresh(self) -> None:
        import google.auth
        from google.auth.transport.requests import Request

        if self._credentials is None:
            self._credentials, _ = google.auth.default(scopes=list(SCOPES))
        self._credentials.refresh(Request())
        headers = {"authorization": f"Bearer {self._credentials.token}"}
        quota_project = getattr(self._credentials, "quota_project_id", None)
        if quota_project:
            headers["x-goog-user-project"] = quota_project
        expiry = getattr(self._credentials, "expiry", None)
        # google-auth's expiry is a naive UTC datetime
        utc = expiry.replace(tzinfo=datetime.UTC) if expiry else None
        expires = utc.timestamp() if utc else time.time() + 3000
        self._headers = headers
        self._expires = expires - TOKEN_REFRESH_MARGIN_SECONDS


@dataclass(frozen=True)
class Request:
    """One prepared call: the path and the encoded body, built once for all attempts."""

    path: str
    body: bytes


class RestCaller:
    """``send(request) -> (json, headers)`` over this thread's own keep-alive connection."""

    def __init__(self, project: str, location: str, *, timeout_seconds: float = 120.0) -> None:
        from gemini_sft_kfp import __version__

        self.project = project
        self.location = location
        self.timeout = timeout_seconds
        base = urllib.parse.urlsplit(vertex_base_url(location))
        self._https = base.scheme == "https"
        self._host = base.hostname or ""
        self._port = base.port or (443 if self._https else 80)
        self._credentials = _Credentials(project)
        agent = f"gemini-sft-kfp/{__version__} gl-python/{_python_version()}"
        self._headers = {
            "content-type": "application/json",
            "user-agent": agent,
            "x-goog-api-client": agent,
        }
        self._local = threading.local()
        self._proxy = _proxy_for(self._host) if self._https else None

    def prepare(self, model: str, body: dict) -> Request:
        """Encode once: retries resend the same bytes."""
        path = f"/v1/{model_path(model, self.project, self.location)}:generateContent"
        return Request(path, orjson.dumps(body))

    def prepare_evaluation(self, body: dict) -> Request:
        """An ``evaluateInstances`` call of the Gen AI evaluation service."""
        path = f"/v1/projects/{self.project}/locations/{self.location}:evaluateInstances"
        return Request(path, orjson.dumps(body))

    def send(self, request: Request) -> tuple[dict, dict[str, str]]:
        """POST the request; raises ``HttpError`` (status) or a transient connection error."""
        return self._exchange("POST", request.path, request.body)

    def read(self, name: str) -> dict:
        """GET a resource (``projects/...`` or ``publishers/...``) by its name."""
        return self._exchange("GET", f"/v1/{name}", None)[0]

    def _exchange(self, method: str, path: str, body: bytes | None) -> tuple[dict, dict[str, str]]:
        headers = {**self._headers, **self._credentials.headers()}
        connection = self._connection()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        except http.client.HTTPException as exc:  # a half-closed keep-alive connection
            self._drop()
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        except BaseException:
            self._drop()
            raise
        if response.will_close:
            self._drop()
        if response.status >= 300:
            raise HttpError(response.status, _error_message(raw, response.reason))
        return orjson.loads(raw), dict(response.getheaders())

    def close(self) -> None:
        """Close this thread's connection (each worker closes its own when it ends)."""
        self._drop()

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            if self._proxy:
                host, port = self._proxy
                connection = http.client.HTTPSConnection(host, port, timeout=self.timeout)
                connection.set_tunnel(self._host, self._port)
            elif self._https:
                connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self.timeout
                )
            else:
                connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=self.timeout
                )
            self._local.connection = connection
        return connection

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


def _error_message(raw: bytes, reason: str) -> str:
    try:
        error = orjson.loads(raw).get("error") or {}
    except (orjson.JSONDecodeError, AttributeError):
        return f"{reason}: {raw[:300].decode(errors='replace')}"
    status = error.get("status")
    message = error.get("message") or reason
    return f"{status}: {message}" if status else message


def _proxy_for(host: str) -> tuple[str, int] | None:
    """The HTTPS proxy from the environment (``HTTPS_PROXY``, honouring ``NO_PROXY``)."""
    proxy = urllib.request.getproxies().get("https")
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return parts.hostname or "", parts.port or 3128


def _python_version() -> str:
    import platform

    return platform.python_version()


def response_dict(response) -> tuple[dict, dict[str, str]]:
    """A google-genai ``GenerateContentResponse`` as the REST JSON and its headers."""
    data = response.model_dump(mode="json", by_alias=True, exclude_none=True)
    http_response = data.pop("sdkHttpResponse", None) or {}
    return data, dict(http_response.get("headers") or {})


def request_body(
    contents: list[dict],
    system_instruction: dict | None,
    *,
    temperature: float,
    max_output_tokens: int,
    thinking_budget: int | None,
    thinking_level: str = "",
) -> dict:
    """The ``generateContent`` JSON google-genai would send for the same settings
    (Gemini 3.x: a ``thinkingLevel`` instead of a budget)."""
    generation: dict = {
        "temperature": temperature,
        "candidateCount": 1,
        "maxOutputTokens": max_output_tokens,
    }
    if thinking_level:
        generation["thinkingConfig"] = {"thinkingLevel": thinking_level.upper()}
    elif thinking_budget is not None:
        generation["thinkingConfig"] = {"thinkingBudget": thinking_budget}
    body: dict = {"contents": contents}
    if system_instruction:
        body["systemInstruction"] = system_instruction
    body["generationConfig"] = generation
    return body
