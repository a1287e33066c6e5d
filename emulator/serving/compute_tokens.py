"""``:computeTokens`` on publisher models and endpoints (google-genai
``client.models.compute_tokens``): the emulator's own tokens (words and punctuation,
see tokenizer.py) with stable ids, one ``tokensInfo`` per content. Simulated: real ids
come from the model's SentencePiece vocabulary.
"""

from __future__ import annotations

import base64
import hashlib

from gemini_sft_kfp.emulator.common.http import Call, Reply, route
from gemini_sft_kfp.emulator.common.service import SIMULATED_HEADER, Service
from gemini_sft_kfp.emulator.serving import endpoints_api
from gemini_sft_kfp.emulator.serving.generate import (
    ENDPOINT,
    PUBLISHER,
    check_request,
    publisher_model_id,
)
from gemini_sft_kfp.emulator.serving.tokenizer import TOKEN, parts_text

VOCABULARY_SIZE = 262_144  # Gemma 3's, for plausible ids


def token_id(token: str) -> str:
    """A stable id for ``token`` (int64 as a JSON string, as the service writes it)."""
    return str(int.from_bytes(hashlib.sha256(token.encode()).digest()[:8]) % VOCABULARY_SIZE)


def compute_tokens(service: Service, call: Call) -> Reply:
    body = call.body
    contents = body.get("contents") or ([] if body.get("instances") else None)
    contents = check_request({"contents": contents})
    if "model" in call.params:
        publisher_model_id(call)
    else:
        with service.store.lock:
            endpoints_api.endpoint_record(service, call)
    info = []
    for content in contents:
        tokens = TOKEN.findall(parts_text(content.get("parts")))
        info.append(
            {
                "tokens": [base64.b64encode(t.encode()).decode() for t in tokens],
                "tokenIds": [token_id(t) for t in tokens],
                "role": str(content.get("role") or "user"),
            }
        )
    return Reply({"tokensInfo": info}, headers={SIMULATED_HEADER: "true"})


ROUTES = [
    route("POST", PUBLISHER, "publishers.models.computeTokens", compute_tokens, "computeTokens"),
    route("POST", ENDPOINT, "endpoints.computeTokens", compute_tokens, "computeTokens"),
]
