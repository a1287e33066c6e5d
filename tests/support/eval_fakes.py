"""A stand-in for google-genai's client: answers from a table, fails on demand."""

from __future__ import annotations

import threading
import time

from google.genai import errors, types


def api_error(code: int, message: str = "boom") -> errors.APIError:
    cls = errors.ClientError if code < 500 else errors.ServerError
    return cls(code, {"error": {"code": code, "message": message}})


class FakeModels:
    def __init__(self, answer, failures=None, latency: float = 0.0):
        self.answer = answer  # (model, prompt_text, config) -> str
        self.failures = failures or {}  # prompt_text -> list of codes to raise first
        self.latency = latency  # seconds each call takes, like a round trip to the service
        self.calls: list[dict] = []
        self.lock = threading.Lock()

    def generate_content(self, *, model, contents, config):
        prompt = contents[-1].parts[0].text
        with self.lock:
            self.calls.append(
                {"model": model, "prompt": prompt, "config": config, "at": time.monotonic()}
            )
            pending = self.failures.get(prompt)
            code = pending.pop(0) if pending else None
        if self.latency:
            time.sleep(self.latency)
        if code is not None:
            raise api_error(code)
        text = self.answer(model, prompt, config)
        return types.GenerateContentResponse(
            candidates=[
                types.Candidate(
                    content=types.Content(role="model", parts=[types.Part(text=text)]),
                    finish_reason=types.FinishReason.STOP,
                )
            ],
            usage_metadata=types.GenerateContentResponseUsageMetadata(
                prompt_token_count=10, candidates_token_count=2, total_token_count=12
            ),
            sdk_http_response=types.HttpResponse(headers={"X-Emulator-Simulated": "true"}),
        )


class FakeClient:
    def __init__(self, answer, failures=None, latency: float = 0.0):
        self.models = FakeModels(answer, failures, latency)
