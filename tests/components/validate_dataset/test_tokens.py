"""Token counters: the estimate is labelled, the local tokenizer is used only when cached."""

from __future__ import annotations

import pytest
from gemini_sft_kfp.components.validate_dataset import tokens
from gemini_sft_kfp.components.validate_dataset.schema import check_example
from gemini_sft_kfp.components.validate_dataset.validator import validate_files

from gemini_sft_kfp.core.errors import UserError

RECORD = {
    "systemInstruction": {"parts": [{"text": "Route tickets to a queue."}]},
    "contents": [
        {"role": "user", "parts": [{"text": "my parcel is late"}]},
        {"role": "model", "parts": [{"text": "queue: shipping"}]},
    ],
}


def test_estimate_is_four_characters_a_token_rounded_up():
    _, measure = check_example(RECORD)
    prefix, turns = tokens.EstimateCounter().count(RECORD, measure)
    assert (prefix, turns) == (7, [5, 4])  # 25, 17 and 15 characters


def test_without_a_cached_tokenizer_auto_falls_back_to_the_estimate(monkeypatch):
    monkeypatch.setattr(tokens, "local_tokenizer_cached", lambda model: False)
    assert isinstance(tokens.make_counter("auto", "gemini-2.5-flash"), tokens.EstimateCounter)
    with pytest.raises(UserError, match="not available offline"):
        tokens.make_counter("local", "gemini-2.5-flash")
    with pytest.raises(UserError, match="unknown token counter"):
        tokens.make_counter("magic", "gemini-2.5-flash")


class FakeSentencePiece:
    """Stands in for the Gemma 3 SentencePiece model: one token per word."""

    def encode(self, texts: list[str]) -> list[list[int]]:
        return [list(range(len(t.split()))) for t in texts]


def test_cached_local_tokenizer_gives_exact_labelled_counts(monkeypatch, tmp_path):
    monkeypatch.setattr(tokens, "local_tokenizer_cached", lambda model: True)
    counter = tokens.make_counter("auto", "gemini-2.5-flash")
    assert isinstance(counter, tokens.LocalTokenizerCounter)
    counter._processor = FakeSentencePiece()
    _, measure = check_example(RECORD)
    assert counter.count(RECORD, measure) == (5, [4, 2])
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join([__import__("json").dumps(RECORD)] * 20) + "\n")
    report = validate_files(str(path), token_counter=counter)
    assert report.stats["tokenCountExact"] is True
    assert report.stats["files"]["train"]["totalTokens"] == 20 * 11
    assert "local tokenizer" in report.stats["tokenCounter"]


def test_local_tokenizer_is_not_cached_on_this_machine():
    # sentencepiece is not installed here and nothing can be downloaded: detection says no
    assert tokens.local_tokenizer_cached("gemini-2.5-flash") is False


def test_local_tokenizer_is_detected_only_once_its_model_file_is_cached(monkeypatch, tmp_path):
    import hashlib
    import sys
    import tempfile
    import types

    import google.genai

    # sentencepiece importable, and google-genai's loader (its cache is keyed by URL)
    monkeypatch.setitem(sys.modules, "sentencepiece", types.ModuleType("sentencepiece"))
    url = "https://example.com/gemma3.model"
    loader = types.SimpleNamespace(
        get_tokenizer_name=lambda model: "gemma3",
        _TOKENIZERS={"gemma3": types.SimpleNamespace(model_url=url)},
    )
    monkeypatch.setitem(sys.modules, "google.genai._local_tokenizer_loader", loader)
    monkeypatch.setattr(google.genai, "_local_tokenizer_loader", loader, raising=False)
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    assert tokens.local_tokenizer_cached("gemini-2.5-flash") is False  # nothing downloaded
    cache = tmp_path / "vertexai_tokenizer_model"
    cache.mkdir()
    (cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(b"model")
    assert tokens.local_tokenizer_cached("gemini-2.5-flash") is True


def test_local_tokenizer_counter_pickles_without_its_model(monkeypatch):
    import pickle

    counter = tokens.LocalTokenizerCounter("gemini-2.5-flash")
    counter._processor = FakeSentencePiece()
    copy = pickle.loads(pickle.dumps(counter))
    assert copy._processor is None and copy.label == counter.label


class BrokenCounter:
    label, exact, parallel_safe = "broken remote counter", True, False

    def count(self, record, measure):
        raise ConnectionError("service unavailable")


def test_failing_counter_falls_back_to_the_estimate_with_a_warning(tmp_path):
    import json

    path = tmp_path / "t.jsonl"
    path.write_text("\n".join([json.dumps(RECORD)] * 20) + "\n")
    report = validate_files(str(path), token_counter=BrokenCounter())
    assert report.valid
    finding = next(f for f in report.warnings if f.code == "token_count_failed")
    assert finding.line == 1 and "service unavailable" in finding.message
    assert report.stats["warningTotals"]["token_count_failed"] == 20
    assert report.stats["files"]["train"]["totalTokens"] == 20 * 16  # the estimate
    assert report.stats["tokenCountExact"] is False
