"""A dataset URL or countTokens endpoint nobody answers on is reported in seconds (the
retry bound of core/retry.py), never after minutes of retries per file or per example."""

from __future__ import annotations

import socket
import time

import pytest
from gemini_sft_kfp.components.validate_dataset.tokens import VertexTokenCounter
from gemini_sft_kfp.components.validate_dataset.validator import validate_files

from gemini_sft_kfp.core import retry
from tests.support import REPO

TRAIN = REPO / "examples" / "data" / "train.jsonl"


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def short_bound(monkeypatch):
    monkeypatch.setattr(retry, "UNREACHABLE_SECONDS", 1.0)


def test_a_refused_dataset_url_is_a_finding_in_seconds(closed_port, short_bound):
    url = f"https://127.0.0.1:{closed_port}/x.jsonl"
    start = time.monotonic()
    report = validate_files(url, token_counter="estimate")
    assert time.monotonic() - start < 5
    [finding] = report.errors
    assert finding.code == "file_unreadable" and finding.file == url
    assert "Connection refused" in finding.message and "tried" in finding.message


def test_an_unreachable_count_tokens_endpoint_is_tried_once_not_per_example(
    closed_port, short_bound, monkeypatch
):
    monkeypatch.setenv("VERTEX_AI_EMULATOR_HOST", f"http://127.0.0.1:{closed_port}")
    start = time.monotonic()
    counter = VertexTokenCounter("local-project", "us-central1", "gemini-2.5-flash")
    report = validate_files(str(TRAIN), token_counter=counter, workers=1)
    elapsed = time.monotonic() - start
    assert elapsed < 8, f"{elapsed:.0f}s for 240 examples"
    assert report.valid  # counted by estimate instead, and said so
    assert report.totals["token_count_failed"] == 240
    assert any("Connection refused" in w.message for w in report.warnings)


def test_a_count_that_fell_back_to_the_estimate_is_not_called_vertex_counted(
    closed_port, short_bound, monkeypatch
):
    """The billing line said "tokens counted by Vertex AI countTokens" when every count
    had failed and been estimated."""
    from gemini_sft_kfp.components.validate_dataset.render import render_text

    monkeypatch.setenv("VERTEX_AI_EMULATOR_HOST", f"http://127.0.0.1:{closed_port}")
    counter = VertexTokenCounter("local-project", "us-central1", "gemini-2.5-flash")
    report = validate_files(str(TRAIN), token_counter=counter, workers=1)
    assert not report.stats["tokenCountExact"]
    assert "failed for 240 example(s): those estimated" in report.stats["tokenCounter"]
    assert "those estimated" in render_text(report)
