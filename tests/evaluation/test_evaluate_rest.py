"""The lean REST caller: the body google-genai would send, errors, reconnects, its metrics."""

from __future__ import annotations

import socket
import threading

import httpx
import orjson
import pytest
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT

from gemini_sft_kfp.core.retry import is_transient
from gemini_sft_kfp.evaluation.eval_data import EvalExample
from gemini_sft_kfp.evaluation.rate_limit import RateLimiter
from gemini_sft_kfp.evaluation.rest import HttpError, RestCaller, model_path
from gemini_sft_kfp.evaluation.runner import (
    RunStats,
    Settings,
    baseline_target,
    body_for,
    predict_all,
    tuned_target,
)
from tests.support import REPO
from tests.support.eval_helpers import SYSTEM, tuned_endpoint

EXAMPLE = EvalExample(
    index=0,
    line=1,
    contents=[{"role": "user", "parts": [{"text": "where is my parcel"}]}],
    reference="shipping",
    system_instruction=SYSTEM,
)
FAST = Settings(retry_initial_seconds=0.001, retry_max_seconds=0.01)


def sdk_body(model: str, body: dict) -> tuple[str, dict]:
    """What google-genai puts on the wire for the same request (SdkCaller -> httpx)."""
    from google import genai
    from google.genai import types
    from google.oauth2.credentials import Credentials

    from gemini_sft_kfp.evaluation.runner import SdkCaller

    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"candidates": []})

    client = genai.Client(
        vertexai=True,
        project="p",
        location="us-central1",
        credentials=Credentials(token="t"),
        http_options=types.HttpOptions(
            api_version="v1", httpx_client=httpx.Client(transport=httpx.MockTransport(handler))
        ),
    )
    caller = SdkCaller(client)
    caller.send(caller.prepare(model, body))
    [request] = seen
    return request.url.path, orjson.loads(request.content)


def camel(value):
    """google-genai writes ``thinking_budget``; the REST API takes both spellings."""
    if isinstance(value, dict):
        return {
            ("thinkingBudget" if k == "thinking_budget" else k): camel(v) for k, v in value.items()
        }
    return value


@pytest.mark.parametrize(
    "target",
    [
        tuned_target("projects/p/locations/us-central1/endpoints/7", "gemini-2.5-flash"),
        baseline_target("gemini-2.5-pro"),
        baseline_target("gemini-2.0-flash-001"),
    ],
    ids=["tuned-endpoint", "thinking-baseline", "non-thinking-baseline"],
)
def test_the_body_is_what_google_genai_sends(target):
    body = body_for(target, EXAMPLE, Settings(temperature=0.0, max_output_tokens=64))
    path, sent = sdk_body(target.model, body)
    assert camel(sent) == body
    assert path == "/v1/" + model_path(target.model, "p", "us-central1") + ":generateContent"
    # what each model is sent: the system instruction only to a base-model baseline
    assert ("systemInstruction" in body) == (target.role == "baseline")


def test_model_path_like_google_genai():
    assert model_path("gemini-2.5-flash", "p", "l") == (
        "projects/p/locations/l/publishers/google/models/gemini-2.5-flash"
    )
    assert model_path("projects/p/locations/l/endpoints/1", "x", "y") == (
        "projects/p/locations/l/endpoints/1"
    )


def test_against_the_emulator_answers_errors_and_run_metrics(emu):
    endpoint = tuned_endpoint(str(REPO / "examples" / "data" / "train.jsonl"))
    caller = RestCaller(DEFAULT_PROJECT, DEFAULT_LOCATION)
    target = tuned_target(endpoint, "gemini-2.5-flash")
    examples = [
        EvalExample(i, i + 1, EXAMPLE.contents, "x", None) for i in range(20)
    ]  # the same prompt 20 times
    emu.add_fault(method="endpoints.generateContent", status=503, times=3)
    stats = RunStats()
    predictions = predict_all(
        caller, target, examples, FAST, concurrency=4, limiter=RateLimiter(0), stats=stats
    )
    assert all(p.ok and p.text and p.simulated for p in predictions)
    assert sum(p.attempts for p in predictions) == stats.requests == 23
    assert stats.client_cpu_ms_per_request > 0 and stats.requests_per_minute > 0
    assert len({p.text for p in predictions}) == 1  # deterministic simulation

    missing = endpoint.rsplit("/", 1)[0] + "/999"
    with pytest.raises(HttpError) as info:
        caller.send(caller.prepare(missing, body_for(target, EXAMPLE, FAST)))
    assert info.value.code == 404 and "NOT_FOUND" in str(info.value)


def test_a_dropped_keep_alive_connection_is_retried_on_a_new_one():
    """A server that answers once per connection, then closes it without a word."""
    answer = orjson.dumps({"candidates": [{"content": {"parts": [{"text": "ok"}]}}]})
    response = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(answer)).encode()
        + b"\r\n\r\n"
        + answer
    )
    server = socket.create_server(("127.0.0.1", 0))
    connections = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            connections.append(conn)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = int(
                next(
                    h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")
                ).split(b":")[1]
            )
            while len(rest) < length:
                rest += conn.recv(65536)
            conn.sendall(response)
            conn.close()  # keep-alive promised, connection dropped

    threading.Thread(target=serve, daemon=True).start()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("VERTEX_AI_EMULATOR_HOST", f"http://127.0.0.1:{server.getsockname()[1]}")
            caller = RestCaller("p", "us-central1", timeout_seconds=5)
            target = tuned_target("projects/p/locations/us-central1/endpoints/1", "")
            examples = [EvalExample(i, i + 1, EXAMPLE.contents, "ok") for i in range(3)]
            predictions = predict_all(caller, target, examples, FAST, concurrency=1)
    finally:
        server.close()
    assert [p.text for p in predictions] == ["ok"] * 3
    assert [p.attempts for p in predictions] == [1, 2, 2]  # a stale connection costs one retry
    assert len(connections) == 3  # each answer on a fresh connection after the stale one


def test_http_errors_are_classified_like_the_sdks():
    assert is_transient(HttpError(429, "RESOURCE_EXHAUSTED"))
    assert is_transient(HttpError(503, "UNAVAILABLE"))
    assert not is_transient(HttpError(400, "INVALID_ARGUMENT"))
