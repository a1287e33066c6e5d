"""Send every eval prompt to one model: bounded concurrency, a rate limit, retries.

A thread pool whose workers each keep their own connection (``rest.RestCaller``): at
0.3-0.4 ms of client CPU a request it leaves the machine to the answers, where the
google-genai client spent 2.2-2.5 ms (see ``rest.py`` and ``bench/evaluate.py``). A
google-genai client (or a test's stand-in) can still be passed in: ``SdkCaller``
sends the same request through it. Every example ends with either
a prediction or a recorded error; transient failures (429/5xx/timeouts) are retried
with backoff, each attempt taking its own rate-limit slot.

What each model is sent (SFT_FACTS "Serving the tuned model"):
- tuned endpoint: the prompt turns only: no system instruction, no response schema;
  thinking budget 0 when its base model thinks (the tuned model learned to skip it;
  the model table's lowest budget where 0 is not accepted, as on 2.5 Pro).
- baseline base model: the prompt turns plus the example's system instruction, since
  an untuned model only knows the task from it; thinking budget 0 as well, so the
  comparison is like for like in latency and cost.
- baseline endpoint (a champion tuned model): treated like the tuned endpoint.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.models import get_model_spec, normalize_model_id
from gemini_sft_kfp.core.retry import http_status, is_unreachable, retrying
from gemini_sft_kfp.evaluation.eval_data import EvalExample
from gemini_sft_kfp.evaluation.rate_limit import RateLimiter
from gemini_sft_kfp.evaluation.rest import request_body, response_dict

log = logging.getLogger(__name__)

SIMULATED_HEADER = "x-emulator-simulated"
# A wrong endpoint, model or credentials fails every request alike: stop at the first.
SETUP_ERROR_CODES = frozenset({401, 403, 404})
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class Target:
    """A model to evaluate and how to call it."""

    role: str  # "tuned" or "baseline"
    model: str  # endpoint resource name or base model id, as google-genai takes it
    is_endpoint: bool
    thinking_budget: int | None  # None: send no thinking config (the model does not think)
    send_system_instruction: bool
    thinking_level: str = ""  # Gemini 3.x: a level ("minimal") instead of a budget


def quiet_sdk_logs() -> None:
    """One INFO line per request from httpx and google-genai would drown the progress log."""
    for name in ("httpx", "google_genai"):
        logging.getLogger(name).setLevel(logging.WARNING)


def is_endpoint_name(name: str) -> bool:
    return "/endpoints/" in name


def _thinking(base_model: str) -> tuple[int | None, str]:
    """``(budget, level)``: the lowest budget the model accepts (0, or 128 on 2.5 Pro), or
    for Gemini 3.x its lowest level ("minimal"); ``(None, "")`` when it does not think."""
    if not base_model:
        return None, ""
    try:
        spec = get_model_spec(base_model, allow_unsupported=True)
    except UserError:
        log.warning("model %r is not in the model table: sending no thinking config", base_model)
        return None, ""
    if not spec.thinking:
        return None, ""
    if spec.thinking_level:
        return None, spec.thinking_level
    return spec.min_thinking_budget, ""


def thinking_budget(base_model: str) -> int | None:
    """The lowest thinking budget of a budget-style thinking model, else None."""
    return _thinking(base_model)[0]


def tuned_target(endpoint: str, base_model: str) -> Target:
    budget, level = _thinking(base_model)
    return Target("tuned", endpoint, True, budget, send_system_instruction=False,
                  thinking_level=level)  # fmt: skip


def baseline_target(baseline: str, base_model: str = "") -> Target:
    """A base model id gets the system instruction; a (champion) endpoint does not."""
    if is_endpoint_name(baseline):
        budget, level = _thinking(base_model)
        return Target("baseline", baseline, True, budget, False, thinking_level=level)
    model_id = normalize_model_id(baseline)
    budget, level = _thinking(model_id)
    return Target("baseline", model_id, False, budget, send_system_instruction=True,
                  thinking_level=level)  # fmt: skip


@dataclass(frozen=True)
class Settings:
    temperature: float = 0.0
    max_output_tokens: int = 256
    retry_initial_seconds: float = 0.5
    retry_max_seconds: float = 30.0
    retry_deadline_seconds: float = 300.0
    retry_attempts: int = 8
    timeout_seconds: float = 120.0  # one request, connection included


@dataclass
class Prediction:
    """One model's outcome on one example: text, or the error that prevented it."""

    index: int
    text: str | None = None
    error: str | None = None
    status: int | None = None  # HTTP status of the final error, if any
    latency_ms: float | None = None  # of the successful attempt
    attempts: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    finish_reason: str | None = None
    simulated: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "index"}


@dataclass
class _Progress:
    """Thread-safe completion counter that logs about every 10 % (and at least every 10 s)."""

    role: str
    total: int
    done: int = 0
    errors: int = 0
    retries: int = 0
    attempts: int = 0
    cpu_seconds: float = 0.0
    started: float = field(default_factory=time.monotonic)
    last_log: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, prediction: Prediction, cpu_seconds: float = 0.0) -> None:
        with self.lock:
            self.done += 1
            self.errors += not prediction.ok
            self.retries += max(0, prediction.attempts - 1)
            self.attempts += prediction.attempts
            self.cpu_seconds += cpu_seconds
            now = time.monotonic()
            step = max(1, self.total // 10)
            if self.done % step and self.done != self.total and now - self.last_log < 10:
                return
            self.last_log = now
            elapsed = now - self.started
            log.info(
                "%s: %d/%d done, %d errors, %d retries, %.1f examples/s",
                self.role,
                self.done,
                self.total,
                self.errors,
                self.retries,
                self.done / elapsed if elapsed > 0 else 0.0,
            )


class SdkCaller:
    """Sends the prepared body through a google-genai client (or a test's stand-in)."""

    def __init__(self, client) -> None:
        self.client = client

    def prepare(self, model: str, body: dict):
        from google.genai import types

        generation = body["generationConfig"]
        config = types.GenerateContentConfig(
            temperature=generation["temperature"],
            max_output_tokens=generation["maxOutputTokens"],
            candidate_count=generation["candidateCount"],
            # no tools are sent; also skips the SDK's per-request "AFC is enabled" log line
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        thinking = generation.get("thinkingConfig") or {}
        if "thinkingLevel" in thinking:
            level = types.ThinkingLevel(thinking["thinkingLevel"])
            config.thinking_config = types.ThinkingConfig(thinking_level=level)
        elif "thinkingBudget" in thinking:
            config.thinking_config = types.ThinkingConfig(
                thinking_budget=thinking["thinkingBudget"]
            )
        if "systemInstruction" in body:
            config.system_instruction = types.Content.model_validate(body["systemInstruction"])
        contents = [types.Content.model_validate(turn) for turn in body["contents"]]
        return model, contents, config

    def send(self, request) -> tuple[dict, dict[str, str]]:
        model, contents, config = request
        response = self.client.models.generate_content(
            model=model, contents=contents, config=config
        )
        return response_dict(response)


def as_caller(client):
    """A caller (``prepare`` + ``send``) as is; a google-genai-like client wrapped."""
    return client if hasattr(client, "send") else SdkCaller(client)


def body_for(target: Target, example: EvalExample, settings: Settings) -> dict:
    system = example.system_instruction if target.send_system_instruction else None
    return request_body(
        example.contents,
        system,
        temperature=settings.temperature,
        max_output_tokens=settings.max_output_tokens,
        thinking_budget=target.thinking_budget,
        thinking_level=target.thinking_level,
    )


def _describe(exc: BaseException) -> str:
    status = http_status(exc)
    text = f"{type(exc).__name__}: {exc}"
    if status is not None and str(status) not in text:
        text = f"{status} {text}"
    return text[:MAX_ERROR_CHARS]


def _fill_from_response(prediction: Prediction, data: dict, headers: dict[str, str]) -> None:
    """Text, tokens and finish reason from a ``generateContent`` REST answer."""
    prediction.simulated = any(
        k.lower() == SIMULATED_HEADER and str(v).lower() == "true" for k, v in headers.items()
    )
    usage = data.get("usageMetadata") or {}
    prediction.prompt_tokens = usage.get("promptTokenCount") or 0
    prediction.output_tokens = usage.get("candidatesTokenCount") or 0
    prediction.total_tokens = usage.get("totalTokenCount") or 0
    candidates = data.get("candidates") or []
    if not candidates:
        reason = (data.get("promptFeedback") or {}).get("blockReason")
        prediction.error = f"no candidates returned (block reason: {reason})"
        return
    candidate = candidates[0]
    prediction.finish_reason = candidate.get("finishReason")
    parts = (candidate.get("content") or {}).get("parts") or []
    text = "".join(p.get("text") or "" for p in parts if not p.get("thought"))
    if not text and prediction.finish_reason not in (None, "STOP", "MAX_TOKENS"):
        prediction.error = f"empty answer (finish reason {prediction.finish_reason})"
        return
    prediction.text = text


class RunStopped(Exception):
    """The run is being abandoned (setup error, Ctrl-C): in-flight examples stop retrying."""


def retry_policy(settings: Settings, stop: threading.Event | None = None):
    """Backoff on transient errors; retries are counted in the progress log, not one line each.

    With ``stop``, backoff sleeps end as soon as it is set, so abandoning a run never waits
    out other threads' backoff.
    """

    def note_retry(state) -> None:
        log.debug("retry %d after %s", state.attempt_number, state.outcome.exception())

    policy = retrying(
        initial=settings.retry_initial_seconds,
        maximum=settings.retry_max_seconds,
        deadline=settings.retry_deadline_seconds,
        attempts=settings.retry_attempts,
    )
    if stop is not None:
        return policy.copy(before_sleep=note_retry, sleep=stop.wait)
    return policy.copy(before_sleep=note_retry)


def predict_one(
    caller,
    target: Target,
    example: EvalExample,
    settings: Settings,
    limiter: RateLimiter,
    policy=None,
    stop: threading.Event | None = None,
) -> Prediction:
    """Call the model for one example; never raises except for a setup error."""
    caller = as_caller(caller)
    prediction = Prediction(index=example.index)
    request = caller.prepare(target.model, body_for(target, example, settings))

    def attempt():
        if stop is not None and stop.is_set():
            raise RunStopped("run stopped before this example was sent")
        prediction.attempts += 1
        limiter.acquire()
        started = time.perf_counter()
        answer = caller.send(request)
        prediction.latency_ms = (time.perf_counter() - started) * 1000.0
        return answer

    try:
        data, headers = (policy or retry_policy(settings))(attempt)
    except Exception as exc:
        status = http_status(exc)
        # no access, no such model, or no server (still unreachable after its bounded
        # retries): every other example would wait as long for the same answer
        if status in SETUP_ERROR_CODES or is_unreachable(exc):
            if stop is not None:  # the workers stop now, not when the main thread wakes
                stop.set()
            raise UserError(
                f"{target.role} model {target.model!r} cannot be called: {_describe(exc)}",
                field="baseline" if target.role == "baseline" else "endpoint",
            ) from exc
        prediction.error = _describe(exc)
        prediction.status = status
        if not isinstance(exc, RunStopped):
            log.warning("%s line %d: %s", target.role, example.line, prediction.error)
        return prediction
    _fill_from_response(prediction, data, headers)
    return prediction


@dataclass
class RunStats:
    """How the run went for the client: wall time, requests sent, the workers' CPU."""

    wall_seconds: float = 0.0
    requests: int = 0  # attempts sent, retries included
    client_cpu_seconds: float = 0.0  # CPU of the worker threads (build, send, parse, retry)

    @property
    def requests_per_minute(self) -> float:
        return self.requests / self.wall_seconds * 60.0 if self.wall_seconds > 0 else 0.0

    @property
    def client_cpu_ms_per_request(self) -> float:
        return self.client_cpu_seconds / self.requests * 1000.0 if self.requests else 0.0

    def to_metrics(self) -> dict[str, float]:
        return {
            "wall_seconds": self.wall_seconds,
            "requests": self.requests,
            "requests_per_minute": self.requests_per_minute,
            "client_cpu_ms_per_request": self.client_cpu_ms_per_request,
        }


def predict_all(
    client,
    target: Target,
    examples: Sequence[EvalExample],
    settings: Settings,
    *,
    concurrency: int = 8,
    limiter: RateLimiter | None = None,
    on_result: Callable[[Prediction], None] | None = None,
    stats: RunStats | None = None,
) -> list[Prediction]:
    """Predictions for every example, in input order (one per example, always).

    ``client``: a ``RestCaller``, or a google-genai client (or stand-in). ``stats``, when
    given, is filled with the wall time, the requests sent and the workers' CPU time.
    """
    caller = as_caller(client)
    limiter = limiter or RateLimiter(0)
    stats = stats if stats is not None else RunStats()
    stop = threading.Event()
    policy = retry_policy(settings, stop)  # tenacity keeps per-call state thread-local
    progress = _Progress(target.role, len(examples))
    log.info(
        "%s: %d examples on %s (concurrency %d, %s)",
        target.role,
        len(examples),
        target.model,
        concurrency,
        f"{limiter.requests_per_minute:g} rpm" if limiter.interval else "no rate limit",
    )

    def run(example: EvalExample) -> Prediction:
        cpu_started = time.thread_time()
        prediction = predict_one(caller, target, example, settings, limiter, policy, stop)
        progress.add(prediction, time.thread_time() - cpu_started)
        if on_result:
            on_result(prediction)
        return prediction

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            futures = [pool.submit(run, example) for example in examples]
            try:
                done, _ = wait(futures, return_when=FIRST_EXCEPTION)
                failed = next((f for f in done if f.exception() is not None), None)
                if failed is not None:  # a setup error: raise it now, not after the others
                    failed.result()
                return [future.result() for future in futures]
            except BaseException:  # a setup error or Ctrl-C: stop calling, skip backoffs
                stop.set()
                for future in futures:
                    future.cancel()
                raise
    finally:
        stats.wall_seconds = time.perf_counter() - started
        stats.requests = progress.attempts
        stats.client_cpu_seconds = progress.cpu_seconds
