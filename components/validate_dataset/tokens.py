"""Pluggable token counters: an estimate by default, exact ones when they can be had.

A counter turns one example into ``(prefix_tokens, [tokens per turn])``; the prefix
(system instruction and tools) is sent with every turn. Three kinds:

- ``EstimateCounter``: about 4 characters a token, fixed costs for media. Fast, offline,
  and always labelled an *estimate* in stats and reports.
- ``LocalTokenizerCounter``: google-genai's ``LocalTokenizer`` (Gemma 3 SentencePiece),
  exact for text, used only when its model file is already cached on this machine (it
  cannot be downloaded offline) and ``sentencepiece`` is installed.
- ``VertexTokenCounter``: Vertex ``countTokens`` through ``genai_client``; exact, one
  request per example, so for small files or when exactness matters.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from typing import Protocol

from gemini_sft_kfp.components.validate_dataset.schema import Measure

CHARS_PER_TOKEN = 4
# Rough token costs of one media item (Gemini docs: 258 tokens an image / a second of
# video frames, 32 a second of audio); lengths are unknown offline, so a guess per item.
MEDIA_TOKEN_ESTIMATE = {"image": 258, "audio": 32 * 60, "video": 263 * 60, "pdf": 258 * 10}
MEDIA_TOKEN_DEFAULT = 258


class TokenCounter(Protocol):
    label: str  # shown in stats and reports, e.g. "estimate (~4 characters/token)"
    exact: bool
    parallel_safe: bool  # may be copied into worker processes

    def count(self, record: dict, measure: Measure) -> tuple[int, list[int]]: ...


def _chars_to_tokens(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN)  # ceiling division


def _media_tokens(media: dict[str, int]) -> int:
    return sum(MEDIA_TOKEN_ESTIMATE.get(k, MEDIA_TOKEN_DEFAULT) * n for k, n in media.items())


class EstimateCounter:
    """~4 characters a token: good to ~20 % on English text, worse on code and CJK."""

    label = f"estimate (~{CHARS_PER_TOKEN} characters/token; media at fixed estimates)"
    exact = False
    parallel_safe = True

    def count(self, record: dict, measure: Measure) -> tuple[int, list[int]]:
        turns = [
            _chars_to_tokens(chars) + (_media_tokens(media) if media else 0)
            for chars, media in zip(measure.turn_chars, measure.turn_media, strict=True)
        ]
        return _chars_to_tokens(measure.prefix_chars), turns


def _plain_text_chars(parts: object) -> int:
    """Characters of a non-empty list of plain, non-blank text parts; -1 for anything else."""
    if type(parts) is not list or not parts:
        return -1
    chars = 0
    for part in parts:
        if type(part) is not dict or len(part) != 1:
            return -1
        text = part.get("text")
        if type(text) is not str or not text or text.isspace():
            return -1
        chars += len(text)
    return chars


class _SystemPrefix:
    """Estimated tokens of a plain-text system instruction, for a fast path. Files repeat
    one instruction on every line; a C-level ``==`` against the last one that passed
    spares walking it again."""

    __slots__ = ("last", "last_tokens")

    def __init__(self) -> None:
        self.last: dict | None = None
        self.last_tokens = 0

    def tokens(self, system: object) -> int:
        """-1 for anything but ``{"parts": [plain text parts]}``."""
        if type(system) is not dict:
            return -1
        if system == self.last:  # deep equality with an instruction already checked
            return self.last_tokens
        if len(system) != 1:
            return -1
        chars = _plain_text_chars(system.get("parts"))
        if chars < 0:
            return -1
        self.last, self.last_tokens = system, -(-chars // CHARS_PER_TOKEN)
        return self.last_tokens


def make_fast_text_tokens() -> Callable[[object], tuple[int, int, int, int] | None]:
    """The hot path of validation, for one scan: see ``fast_text_tokens`` inside."""
    system_prefix = _SystemPrefix()

    def fast_text_tokens(record: object) -> tuple[int, int, int, int] | None:
        """Estimated (input, output, billable, turns) of a plain-text example that passes
        every check; ``None`` for anything unusual (media, tools, snake_case, any problem),
        which then takes every check of ``schema.check_example``. It must agree with
        ``EstimateCounter`` and skip no finding the full checks would raise."""
        if type(record) is not dict:
            return None
        contents = record.get("contents")
        if type(contents) is not list or not contents:
            return None
        prefix = 0
        if len(record) > 1:
            if len(record) != 2:
                return None
            prefix = system_prefix.tokens(record.get("systemInstruction"))
            if prefix < 0:
                return None
        running = prefix_and_user = prefix
        output = billable = 0
        is_model = False
        for turn in contents:
            if type(turn) is not dict or len(turn) != 2:
                return None
            if turn.get("role") != ("model" if is_model else "user"):
                return None
            parts = turn.get("parts")
            if type(parts) is list and len(parts) == 1:  # one text part: inlined, it is hot
                part = parts[0]
                if type(part) is not dict or len(part) != 1:
                    return None
                text = part.get("text")
                if type(text) is not str or not text or text.isspace():
                    return None
                chars = len(text)
            else:
                chars = _plain_text_chars(parts)
                if chars < 0:
                    return None
            tokens = -(-chars // CHARS_PER_TOKEN)
            running += tokens
            if is_model:
                output += tokens
                billable += running
            else:
                prefix_and_user += tokens
            is_model = not is_model
        if is_model:  # the last turn is not a model turn: let the full checks say so
            return None
        return prefix_and_user, output, billable, len(contents)

    return fast_text_tokens


def make_fast_preference_tokens(limit: int) -> Callable[[object], tuple[int, int, int, int] | None]:
    """The hot path of validating preference data, for one scan: see ``fast`` inside."""
    system_prefix = _SystemPrefix()

    def completion_tokens(entry: object) -> int:
        """Estimated tokens of one plain ``{"score", "completion"}`` entry; -1 otherwise."""
        if type(entry) is not dict or len(entry) != 2:
            return -1
        completion = entry.get("completion")
        if type(completion) is not dict or len(completion) != 2:
            return -1
        if completion.get("role") != "model":
            return -1
        chars = _plain_text_chars(completion.get("parts"))
        return -1 if chars < 0 else -(-chars // CHARS_PER_TOKEN)

    def fast(record: object) -> tuple[int, int, int, int] | None:
        """Estimated (input, output, billable, turns) of a plain-text preference example
        that passes every check (``None`` for anything else, which then takes every check
        of ``schema.check_preference_example``); it must agree with ``EstimateCounter``
        and ``scan._record_preference_tokens``. An example near the token limit takes
        the full checks too, which say exactly what is over."""
        if type(record) is not dict:
            return None
        contents = record.get("contents")
        completions = record.get("completions")
        if type(contents) is not list or not contents or type(completions) is not list:
            return None
        prefix = 0
        if len(record) != 2:
            if len(record) != 3:
                return None
            prefix = system_prefix.tokens(record.get("systemInstruction"))
            if prefix < 0:
                return None
        if len(completions) != 2:
            return None
        first, second = completions
        if type(first) is not dict or type(second) is not dict:
            return None
        scores = (first.get("score"), second.get("score"))
        if scores not in ((1, 0), (0, 1)) or type(scores[0]) is not int:
            return None  # floats and booleans (True == 1) take the full checks
        if type(scores[1]) is not int:
            return None
        preferred, dispreferred = completion_tokens(first), completion_tokens(second)
        if preferred < 0 or dispreferred < 0:
            return None
        input_tokens = prefix
        is_model = False
        for turn in contents:
            if type(turn) is not dict or len(turn) != 2:
                return None
            if turn.get("role") != ("model" if is_model else "user"):
                return None
            chars = _plain_text_chars(turn.get("parts"))
            if chars < 0:
                return None
            input_tokens += -(-chars // CHARS_PER_TOKEN)
            is_model = not is_model
        if not is_model:  # the last turn is a model turn: let the full checks say so
            return None
        output = preferred + dispreferred
        if input_tokens + output > limit:
            return None
        return input_tokens, output, 2 * input_tokens + output, len(contents) + 2

    return fast


def _texts(content: dict) -> list[str]:
    return [p["text"] for p in content.get("parts") or [] if isinstance(p, dict) and "text" in p]


def local_tokenizer_cached(model: str) -> bool:
    """True when LocalTokenizer can run offline: sentencepiece importable and model file cached."""
    try:
        import sentencepiece  # noqa: F401
        from google.genai import _local_tokenizer_loader as loader

        name = loader.get_tokenizer_name(model)
        config = loader._TOKENIZERS[name]
    except Exception:  # any missing piece means: not available, fall back to the estimate
        return False
    cache_dir = os.path.join(tempfile.gettempdir(), "vertexai_tokenizer_model")
    cached = os.path.join(cache_dir, hashlib.sha1(config.model_url.encode()).hexdigest())
    return os.path.exists(cached)


class LocalTokenizerCounter:
    """Exact text tokens with google-genai's LocalTokenizer; media still estimated."""

    exact = True
    parallel_safe = True

    def __init__(self, model: str) -> None:
        from gemini_sft_kfp.core.models import get_model_spec

        self.model = model
        self.label = f"local tokenizer ({get_model_spec(model).tokenizer}; media estimated)"
        self._processor = None  # loaded on first use (also in each worker process)

    def __getstate__(self) -> dict:  # worker processes load their own tokenizer
        return {**self.__dict__, "_processor": None}

    def _encode(self, texts: list[str]) -> int:
        if self._processor is None:
            from google.genai import _local_tokenizer_loader as loader

            self._processor = loader.get_sentencepiece(loader.get_tokenizer_name(self.model))
        return sum(len(ids) for ids in self._processor.encode(texts)) if texts else 0

    def count(self, record: dict, measure: Measure) -> tuple[int, list[int]]:
        system = record.get("systemInstruction")
        prefix = self._encode(_texts(system)) if isinstance(system, dict) else 0
        prefix += _chars_to_tokens(measure.prefix_chars - sum(map(len, _texts(system or {}))))
        turns = [
            self._encode(_texts(content)) + _media_tokens(media)
            for content, media in zip(record["contents"], measure.turn_media, strict=False)
        ]
        return prefix, turns


COUNT_TIMEOUT_MS = 60_000  # one countTokens request answers in well under a second


class VertexTokenCounter:
    """Exact counts from Vertex ``countTokens``: one request per example, so slow on big files."""

    exact = True
    parallel_safe = False

    def __init__(self, project: str, location: str, model: str) -> None:
        from gemini_sft_kfp.core.clients import genai_client

        self.model = model
        self.label = f"Vertex AI countTokens ({model})"
        self._client = genai_client(project, location, timeout_ms=COUNT_TIMEOUT_MS)
        self._unreachable: Exception | None = None

    def _tokens(self, contents: list[dict], system: dict | None) -> int:
        """Tokens of one example; once the endpoint proved unreachable, every later call
        fails at once with that error (the scan estimates instead, and says so)."""
        from google.genai import types

        from gemini_sft_kfp.core.retry import Unreachable, call_with_retry

        if self._unreachable is not None:
            raise self._unreachable
        config = types.CountTokensConfig(system_instruction=system) if system else None
        try:
            result = call_with_retry(
                lambda: self._client.models.count_tokens(
                    model=self.model, contents=contents, config=config
                )
            )
        except Unreachable as exc:
            self._unreachable = Unreachable(f"{exc}; not tried again for the other examples")
            raise self._unreachable from exc
        return int(result.total_tokens or 0)

    def count(self, record: dict, measure: Measure) -> tuple[int, list[int]]:
        """One request per example; the exact total is shared out over the system
        instruction and the turns in proportion to their estimated sizes."""
        whole = self._tokens(record["contents"], record.get("systemInstruction"))
        prefix_estimate, turn_estimates = EstimateCounter().count(record, measure)
        estimates = [prefix_estimate, *turn_estimates]
        total_estimate = sum(estimates) or 1
        shares = [whole * e // total_estimate for e in estimates]
        shares[-1] += whole - sum(shares)
        return shares[0], shares[1:]


def make_counter(
    kind: str | TokenCounter | None,
    model: str,
    *,
    project: str | None = None,
    location: str | None = None,
) -> TokenCounter:
    """``"auto"`` (local tokenizer if cached, else estimate), ``"estimate"``, ``"local"``,
    ``"vertex"``, or a counter object passed through."""
    if kind is not None and not isinstance(kind, str):
        return kind
    kind = (kind or "auto").lower()
    if kind == "estimate":
        return EstimateCounter()
    if kind in ("auto", "local"):
        if local_tokenizer_cached(model):
            return LocalTokenizerCounter(model)
        if kind == "local":
            from gemini_sft_kfp.core.errors import UserError

            raise UserError(
                "the local tokenizer is not available offline: install `sentencepiece` and "
                "run once with internet access to cache its model, or use --tokens estimate",
                field="tokens",
            )
        return EstimateCounter()
    if kind == "vertex":
        from gemini_sft_kfp.core.project import resolve_project_location

        return VertexTokenCounter(*resolve_project_location(project, location), model)
    from gemini_sft_kfp.core.errors import UserError

    raise UserError(
        f"unknown token counter {kind!r}; use auto, estimate, local or vertex", field="tokens"
    )
