"""``:generateContent`` / ``:streamGenerateContent`` / ``:countTokens`` on endpoints and
publisher models. Every answer is simulated (header ``x-emulator-simulated: true``):
tuned models retrieve the closest training answer, base models reply generically.
"""

from __future__ import annotations

import hashlib
import re
import uuid

import orjson
from gemini_sft_kfp.emulator.common.api_errors import invalid, not_found
from gemini_sft_kfp.emulator.common.http import Call, Reply, route
from gemini_sft_kfp.emulator.common.service import SIMULATED_HEADER, Service
from gemini_sft_kfp.emulator.common.store import rfc3339
from gemini_sft_kfp.emulator.model_registry import model_versions as registry
from gemini_sft_kfp.emulator.serving import endpoints_api
from gemini_sft_kfp.emulator.serving.serving_models import publisher_model
from gemini_sft_kfp.emulator.serving.tokenizer import (
    content_tokens,
    count_tokens,
    first_tokens,
    parts_text,
)
from gemini_sft_kfp.emulator.tuning.tuning_jobs import advance_all

P = r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
_ROLES = {"user", "model", "function", "system", ""}
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")
_STOP = {
    "hello",
    "there",
    "thanks",
    "thank",
    "please",
    "would",
    "could",
    "about",
    "with",
    "your",
    "have",
    "this",
    "that",
    "from",
    "regards",
    "urgent",
    "advance",
    "morning",
    "evening",
    "since",
    "when",
    "what",
    "where",
    "which",
    "again",
    "also",
    "just",
    "still",
    "been",
}
_BASE_TEMPLATES = (
    "Thanks for reaching out. It sounds like this is about {topic}. "
    "Could you share a few more details so the right team can help?",
    "I understand your concern regarding {topic}. "
    "I would recommend contacting our support team, who can look into it for you.",
    "Sorry to hear you are having trouble with {topic}. "
    "Let me help: please provide any relevant details and we will get back to you shortly.",
)


def check_request(body: dict) -> list[dict]:
    contents = body.get("contents")
    if isinstance(contents, dict):
        contents = [contents]
    if not contents:
        raise invalid("Unable to submit request because it has an empty contents field.")
    if not isinstance(contents, list):
        raise invalid("contents must be a list of Content objects.")
    for index, content in enumerate(contents):
        if not isinstance(content, dict):
            raise invalid(f"contents[{index}] must be a Content object with role and parts")
        role = str(content.get("role", "")).lower()
        if role not in _ROLES:
            raise invalid(f"contents[{index}].role must be 'user' or 'model', got {role!r}")
        if not content.get("parts"):
            raise invalid(f"contents[{index}].parts must not be empty")
    check_config_ranges(_config(body))
    return contents


# generationConfig numbers the service refuses out of range, as it words it:
# (field, low, high, high inclusive?); maxOutputTokens' top depends on the model.
_CONFIG_RANGES = (
    ("temperature", 0, 2.0001, False),
    ("topP", 0, 1, True),
    ("maxOutputTokens", 1, None, False),
)
_SNAKE = {"topP": "top_p", "maxOutputTokens": "max_output_tokens"}


def check_config_ranges(config: dict) -> None:
    """A generationConfig number out of its range is the 400 Vertex answers, not an answer."""
    for field, low, high, inclusive in _CONFIG_RANGES:
        value = config.get(field, config.get(_SNAKE.get(field, field)))
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        above = high is not None and (value > high if inclusive else value >= high)
        if value >= low and not above:
            continue
        top = (
            "" if high is None else (f" to {high:g} ({'inclusive' if inclusive else 'exclusive'})")
        )
        raise invalid(
            f"Unable to submit request because it has a {field} value of {value:g} but the "
            f"supported range is from {low:g} (inclusive){top}. Update the value and try again."
        )


def prompt_text(contents: list[dict]) -> str:
    return "\n".join(
        parts_text(c.get("parts"))
        for c in contents
        if str(c.get("role", "user")).lower() != "model"
    )


def base_answer(prompt: str) -> str:
    """A plausible generic reply without the tuned task's knowledge or answer format."""
    words = [w.lower() for w in _WORD.findall(prompt) if w.lower() not in _STOP]
    topic = max(words, key=len) if words else "your request"
    digest = int(hashlib.sha256(prompt.encode()).hexdigest(), 16)
    return _BASE_TEMPLATES[digest % len(_BASE_TEMPLATES)].format(topic=f'"{topic}"')


def _config(body: dict) -> dict:
    return body.get("generationConfig") or body.get("generation_config") or {}


def _shaped(answer: str, config: dict) -> str:
    """JSON mode answers JSON; an answer stops before the first stop sequence."""
    mime = config.get("responseMimeType") or config.get("response_mime_type")
    if mime == "application/json":
        try:
            orjson.loads(answer)
        except orjson.JSONDecodeError:
            answer = orjson.dumps({"response": answer}).decode()
    for stop in config.get("stopSequences") or config.get("stop_sequences") or []:
        if stop and stop in answer:
            answer = answer[: answer.index(stop)]
    return answer


def _response(body: dict, contents: list[dict], answer: str, model_version: str) -> dict:
    config = _config(body)
    answer = _shaped(answer, config)
    finish = "STOP"
    limit = config.get("maxOutputTokens") or config.get("max_output_tokens")
    if limit and count_tokens(answer) > int(limit):
        answer, finish = first_tokens(answer, int(limit)), "MAX_TOKENS"
    prompt_tokens = content_tokens(contents, body.get("systemInstruction"))
    answer_tokens = count_tokens(answer)
    candidate_count = int(config.get("candidateCount") or 1)
    candidates = [
        {
            "content": {"role": "model", "parts": [{"text": answer}]},
            "finishReason": finish,
            "index": i,
        }
        for i in range(candidate_count)
    ]
    return {
        "candidates": candidates,
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": answer_tokens * candidate_count,
            "totalTokenCount": prompt_tokens + answer_tokens * candidate_count,
        },
        "modelVersion": model_version,
        "createTime": rfc3339(),
        "responseId": uuid.uuid4().hex[:22],
    }


def _endpoint_answer(service: Service, call: Call, prompt: str) -> tuple[str, str]:
    with service.store.lock:
        endpoint = endpoints_api.endpoint_record(service, call)
        deployed = (endpoint.get("deployedModels") or [None])[0]
        if deployed is None:
            raise invalid(f"Endpoint {endpoint['name']} has no deployed model.")
        ref = f"{deployed['model']}@{deployed.get('modelVersionId', '1')}"
        version = registry.find_model_version(service, ref)
        if version is None:
            raise not_found(f"Model {ref} served by {endpoint['name']} not found.")
        key, uris = registry.model_key(version), list(version["_sim"]["training_uris"])
        skill = checkpoint_skill(version, deployed.get("checkpointId"))
    index = service.knowledge.index(key, uris)
    if index is None:
        return base_answer(prompt), ref
    return index.answer(prompt, confused=not _knows(prompt, skill)), ref


def checkpoint_skill(version: dict, checkpoint_id: str | None) -> float:
    """Share of prompts an (earlier) checkpoint answers as well as the final model:
    1.0 for the last epoch, down to 0.5 for the first (a simulated learning curve)."""
    epochs = [int(c["epoch"]) for c in version.get("checkpoints", [])]
    if not epochs or checkpoint_id is None:
        return 1.0
    epoch = next(
        (int(c["epoch"]) for c in version["checkpoints"] if c["checkpointId"] == checkpoint_id),
        max(epochs),
    )
    return 0.5 + 0.5 * epoch / max(epochs)


def _knows(prompt: str, skill: float) -> bool:
    digest = int(hashlib.sha256(prompt.encode()).hexdigest()[:8], 16)
    return digest / 0xFFFFFFFF < skill


def publisher_model_id(call: Call) -> str:
    model = call.params["model"]
    if publisher_model(model) is None:
        raise not_found(
            f"Publisher Model `publishers/google/models/{model}` was not found "
            "or your project does not have access to it."
        )
    return model


def _answer(service: Service, call: Call) -> tuple[dict, list[dict], str, str]:
    body = call.body
    contents = check_request(body)
    prompt = prompt_text(contents)
    if "model" in call.params:
        return body, contents, base_answer(prompt), publisher_model_id(call)
    advance_all(service)
    answer, model_version = _endpoint_answer(service, call, prompt)
    return body, contents, answer, model_version


def generate_content(service: Service, call: Call) -> Reply:
    response = _response(*_answer(service, call))
    return Reply(response, headers={SIMULATED_HEADER: "true"})


def stream_generate_content(service: Service, call: Call) -> Reply:
    """One chunk: with ``alt=sse`` as server-sent events, else a JSON array."""
    response = _response(*_answer(service, call))
    if call.query.get("alt") == "sse":
        raw = b"data: " + orjson.dumps(response) + b"\r\n\r\n"
        return Reply(
            None, raw=raw, content_type="text/event-stream", headers={SIMULATED_HEADER: "true"}
        )
    return Reply([response], headers={SIMULATED_HEADER: "true"})


def count_tokens_handler(service: Service, call: Call) -> dict:
    contents = check_request(call.body)
    if "model" in call.params:
        publisher_model_id(call)
    else:
        with service.store.lock:
            endpoints_api.endpoint_record(service, call)
    system = call.body.get("systemInstruction")
    characters = sum(len(parts_text(c.get("parts")).replace(" ", "")) for c in contents)
    return {
        "totalTokens": content_tokens(contents, system),
        "totalBillableCharacters": characters,
    }


def get_publisher_model(service: Service, call: Call) -> dict:
    model, stage = publisher_model(publisher_model_id(call))
    return {
        "name": f"publishers/google/models/{model}",
        "versionId": "001",
        "openSourceCategory": "PROPRIETARY",
        "launchStage": stage,
    }


ENDPOINT = P + r"/endpoints/(?P<id>[^/]+)"
PUBLISHER = r"(?:" + P + r"/)?publishers/google/models/(?P<model>[^/]+)"
ROUTES = [
    route("GET", PUBLISHER, "publishers.models.get", get_publisher_model),
    route("POST", ENDPOINT, "endpoints.generateContent", generate_content, "generateContent"),
    route(
        "POST",
        ENDPOINT,
        "endpoints.streamGenerateContent",
        stream_generate_content,
        "streamGenerateContent",
    ),
    route("POST", ENDPOINT, "endpoints.countTokens", count_tokens_handler, "countTokens"),
    route(
        "POST", PUBLISHER, "publishers.models.generateContent", generate_content, "generateContent"
    ),
    route(
        "POST",
        PUBLISHER,
        "publishers.models.streamGenerateContent",
        stream_generate_content,
        "streamGenerateContent",
    ),
    route("POST", PUBLISHER, "publishers.models.countTokens", count_tokens_handler, "countTokens"),
]
