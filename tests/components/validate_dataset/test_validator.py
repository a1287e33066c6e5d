"""Whole-file behaviour: caps from the model table, statistics, cross-file rules, workers."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import orjson
import pytest
from gemini_sft_kfp.components.validate_dataset import scan
from gemini_sft_kfp.components.validate_dataset.stats import Histogram
from gemini_sft_kfp.components.validate_dataset.tokens import EstimateCounter
from gemini_sft_kfp.components.validate_dataset.validator import validate_files

from tests.support import REPO

DATA = Path(__file__).with_name("data")
EXAMPLES = REPO / "examples" / "data"


def example(user: str = "Where is my parcel?", answer: str = "queue: shipping", **extra) -> dict:
    record = {
        "contents": [
            {"role": "user", "parts": [{"text": user}]},
            {"role": "model", "parts": [{"text": answer}]},
        ]
    }
    return record | extra


def write_jsonl(path: Path, records) -> str:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return str(path)


def codes(findings) -> set[str]:
    return {f.code for f in findings}


def test_sample_data_is_valid_with_stats_for_both_files():
    report = validate_files(
        str(EXAMPLES / "train.jsonl"), str(EXAMPLES / "validation.jsonl"), epochs=2
    )
    assert report.valid and not report.warnings
    assert report.examples == 240
    stats = report.stats
    train = stats["files"]["train"]
    assert train["examples"] == 240 and train["turns"] == 480
    assert stats["files"]["validation"]["examples"] == 60
    assert stats["validationExamples"] == 60
    assert train["outputTokens"]["max"] <= 10 < train["inputTokens"]["min"]
    assert stats["estimatedBillableTokens"] == 2 * train["billableTokensPerEpoch"] > 0
    assert stats["epochsAssumed"] is False
    assert stats["tokenCountExact"] is False and "estimate" in stats["tokenCounter"]


def test_billable_tokens_recount_history_at_each_model_turn(tmp_path):
    # 4 chars = 1 estimated token per turn; model turns at 2 and 4: (1+1) + (1+1+1+1) = 6
    turns = [
        {"role": role, "parts": [{"text": "abcd"}]} for role in ("user", "model", "user", "model")
    ]
    path = write_jsonl(tmp_path / "multi.jsonl", [{"contents": turns}] * 20)
    report = validate_files(path)
    train = report.stats["files"]["train"]
    assert train["billableTokensPerEpoch"] == 20 * 6
    assert train["totalTokens"] == 20 * 4
    assert report.stats["epochs"] == 3 and report.stats["epochsAssumed"] is True
    assert "assumes 3" in report.stats["epochsNote"]


def test_caps_come_from_the_model_table(tmp_path, tiny_model):
    train = write_jsonl(tmp_path / "train.jsonl", [example(f"ticket {i}") for i in range(21)])
    validation = write_jsonl(tmp_path / "val.jsonl", [example()] * 4)
    report = validate_files(train, validation, model=tiny_model)
    assert {"too_many_examples", "too_many_validation_examples"} <= codes(report.errors)
    too_many = next(f for f in report.errors if f.code == "too_many_examples")
    assert "21" in too_many.message and "20" in too_many.message and too_many.file == train


def test_multimodal_files_use_the_multimodal_cap(tmp_path, tiny_model):
    image = {"fileData": {"mimeType": "image/png", "fileUri": "gs://b/x.png"}}
    record = example()
    record["contents"][0]["parts"].append(image)
    path = write_jsonl(tmp_path / "mm.jsonl", [record] * 6)
    report = validate_files(path, model=tiny_model)
    assert "multimodal" in next(f for f in report.errors if f.code == "too_many_examples").message


def test_file_over_the_size_limit_is_rejected_before_reading(tmp_path, tiny_model):
    path = tmp_path / "big.jsonl"
    with open(path, "wb") as f:  # sparse: NUL bytes that would be invalid JSON if read
        f.truncate(4001)
    report = validate_files(str(path), model=tiny_model)
    assert codes(report.errors) == {"file_too_large"}
    assert report.stats["files"]["train"] is None


def test_real_size_limit_rejects_sparse_1_1_gb_file_fast(tmp_path):
    path = tmp_path / "huge.jsonl"
    with open(path, "wb") as f:
        f.truncate(1_100_000_000)
    report = validate_files(str(path), model="gemini-2.5-flash")  # a published limit
    assert [f.code for f in report.errors] == ["file_too_large"]
    assert "1,100,000,000 bytes" in report.errors[0].message


def test_examples_over_the_token_limit_are_warnings_with_count_and_lines(tmp_path, tiny_model):
    long = example("x" * 400)  # ~100 estimated tokens > 50
    records = [example(), long, example(), long] + [example()] * 16
    report = validate_files(write_jsonl(tmp_path / "t.jsonl", records), model=tiny_model)
    assert report.valid
    finding = next(f for f in report.warnings if f.code == "over_token_limit")
    assert finding.line == 2 and "2 example(s)" in finding.message
    assert "Lines: 2, 4" in finding.message
    over = report.stats["files"]["train"]["overTokenLimit"]
    assert over == {"count": 2, "lines": [2, 4], "indices": [1, 3]}


def test_too_few_examples_is_a_warning(tmp_path):
    report = validate_files(write_jsonl(tmp_path / "few.jsonl", [example()] * 3))
    assert report.valid and "too_few_examples" in codes(report.warnings)


def test_media_resolution_must_match_across_train_and_validation():
    report = validate_files(
        str(DATA / "media_resolution_low.jsonl"), str(DATA / "media_resolution_high.jsonl")
    )
    finding = next(f for f in report.errors if f.code == "media_resolution_mismatch")
    assert finding.file.endswith("media_resolution_high.jsonl") and finding.line == 1
    assert "MEDIA_RESOLUTION_LOW on 2" in finding.message


def test_snake_case_keys_are_accepted_and_counted():
    report = validate_files(str(DATA / "snake_case.jsonl"))
    assert report.valid, [str(e) for e in report.errors]
    train = report.stats["files"]["train"]
    assert train["normalizedKeyExamples"] == 1 and train["multimodalExamples"] == 1
    assert train["mediaResolution"] == ["MEDIA_RESOLUTION_LOW"]


def test_errors_are_capped_per_code_with_totals(tmp_path):
    lines = b"".join(b"{broken\n" for _ in range(500)) + orjson.dumps(example()) + b"\n"
    path = tmp_path / "broken.jsonl"
    path.write_bytes(lines)
    report = validate_files(str(path), max_findings_per_code=5)
    assert [f.line for f in report.errors] == [1, 2, 3, 4, 5]
    assert report.stats["errorTotals"] == {"invalid_json": 500}
    payload = report.to_dict()
    assert set(payload) == {"valid", "method", "files", "examples", "errors", "warnings", "stats"}
    assert payload["errors"][0] == {
        "file": str(path),
        "line": 1,
        "code": "invalid_json",
        "message": payload["errors"][0]["message"],
        "field": None,
    }


def test_parallel_scan_matches_a_single_process_scan(tmp_path, monkeypatch):
    records = [example(f"ticket number {i} " + "y" * (i % 37)) for i in range(3000)]
    lines = [orjson.dumps(r) for r in records]
    for bad in (7, 1499, 2999):  # errors spread over several chunks
        lines[bad - 1] = b'{"contents": []}'
    lines[2000] = b"{not json"
    path = tmp_path / "many.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.setattr(scan, "PARALLEL_MIN_BYTES", 0)
    cuts = spy_on_ranges(monkeypatch)
    single = validate_files(str(path), workers=1).to_dict()
    assert cuts == []  # one process: the file is not cut
    parallel = validate_files(str(path), workers=2).to_dict()
    assert len(cuts) == 1 and len(cuts[0]) > 3  # really scanned by workers, in several chunks
    assert parallel == single
    assert [(e["line"], e["code"]) for e in parallel["errors"]] == [
        (7, "contents_empty"),
        (1499, "contents_empty"),
        (2999, "contents_empty"),
        (2001, "invalid_json"),
    ]


def spy_on_ranges(monkeypatch) -> list[list[tuple[int, int]]]:
    """The byte ranges of every parallel scan (cut only when workers are used)."""
    cuts: list[list[tuple[int, int]]] = []
    real = scan.line_aligned_ranges

    def recording(*args):
        cuts.append(real(*args))
        return cuts[-1]

    monkeypatch.setattr(scan, "line_aligned_ranges", recording)
    return cuts


def test_line_aligned_ranges_cover_the_file_and_start_at_lines(tmp_path):
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"".join(b"x" * (i % 50) + b"\n" for i in range(1000)))
    data = path.read_bytes()
    ranges = scan.line_aligned_ranges(str(path), len(data), 7)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    for (_, end), (start, _) in itertools.pairwise(ranges):
        assert end == start and data[start - 1 : start] == b"\n"


def test_histogram_percentiles_are_bounded_and_close():
    hist = Histogram()
    values = [*list(range(1, 10001)), 1000000]
    for v in values:
        hist.add(v)
    stats = hist.to_dict()
    assert stats["min"] == 1 and stats["max"] == 1_000_000 and stats["count"] == 10001
    assert abs(stats["p50"] - 5001) / 5001 < 0.01
    assert abs(stats["p95"] - 9501) / 9501 < 0.01
    assert len(hist.high) < 200  # memory does not grow with the number of values


def test_missing_file_is_an_error_not_an_exception(tmp_path):
    report = validate_files(str(tmp_path / "nope.jsonl"))
    assert [f.code for f in report.errors] == ["file_not_found"]


def test_directory_is_unreadable(tmp_path):
    assert [f.code for f in validate_files(str(tmp_path)).errors] == ["file_unreadable"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.jsonl"
    path.write_text("{}\n")
    path.chmod(0)
    assert [f.code for f in validate_files(str(path)).errors] == ["file_unreadable"]


class SlowEstimate:
    """The estimate, but not an EstimateCounter: forces every example through all checks."""

    def __init__(self) -> None:
        self._inner = EstimateCounter()
        self.label, self.exact, self.parallel_safe = self._inner.label, False, True

    def count(self, record, measure):
        return self._inner.count(record, measure)


def test_fast_path_agrees_with_the_full_checks(tmp_path):
    system = {"parts": [{"text": "Route the ticket."}, {"text": "Answer `queue: <id>`."}]}
    turns = [{"role": r, "parts": [{"text": "abc " * (i + 1)}]} for i, r in enumerate("umum")]
    for turn in turns:
        turn["role"] = {"u": "user", "m": "model"}[turn["role"]]
    records = [
        example(systemInstruction=system),
        {"contents": turns},
        example("  "),  # whitespace-only text: both paths must call it empty
        example("x" * 600_000),  # over the token limit
        example(answer="queue: billing", systemInstruction={"parts": [{"text": "s"}]}),
        example(systemInstruction={"parts": [{"text": ""}]}),  # after a valid instruction
        example(generationConfig={"mediaResolution": "MEDIA_RESOLUTION_ULTRA"}),
        example(systemInstruction=system),
    ] * 5
    path = write_jsonl(tmp_path / "mixed.jsonl", records)
    fast = validate_files(path, token_counter=EstimateCounter()).to_dict()
    slow = validate_files(path, token_counter=SlowEstimate()).to_dict()
    assert fast == slow
    assert fast["stats"]["errorTotals"] == {
        "text_empty": 5,
        "system_instruction_invalid": 5,
        "generation_config_invalid": 5,
    }
    assert fast["stats"]["files"]["train"]["overTokenLimit"]["count"] == 5


def test_validation_examples_copied_into_training_are_a_warning(tmp_path):
    records = [example(f"ticket {i}") for i in range(30)]
    train = write_jsonl(tmp_path / "train.jsonl", records)
    validation = write_jsonl(tmp_path / "val.jsonl", [records[4], records[9], example("new")])
    report = validate_files(train, validation)
    assert report.valid
    finding = next(f for f in report.warnings if f.code == "validation_overlap")
    assert (finding.file, finding.line) == (train, 5)
    assert "2 training example(s)" in finding.message and "lines: 5, 10" in finding.message
    assert report.stats["warningTotals"] == {"validation_overlap": 2}


def test_compressed_file_is_named_as_such(tmp_path):
    import gzip

    path = tmp_path / "train.jsonl.gz"
    path.write_bytes(gzip.compress(orjson.dumps(example()) + b"\n"))
    report = validate_files(str(path))
    assert [f.code for f in report.errors] == ["file_not_jsonl"]
    assert "gzip" in report.errors[0].message


def test_https_dataset_is_size_checked_then_validated(tmp_path, tiny_model):
    import functools
    import http.server
    import threading

    write_jsonl(tmp_path / "train.jsonl", [example()] * 20)
    (tmp_path / "big.jsonl").write_bytes(b"x" * 4001)
    served: list[str] = []

    class Recording(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            served.append(f"{self.command} {self.path}")

    handler = functools.partial(Recording, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        good = validate_files(f"{base}/train.jsonl", model=tiny_model)
        assert good.valid and good.examples == 20
        big = validate_files(f"{base}/big.jsonl", model=tiny_model)
        assert [f.code for f in big.errors] == ["file_too_large"]
        assert "HEAD /big.jsonl" in served and "GET /big.jsonl" not in served  # never fetched
        missing = validate_files(f"{base}/nope.jsonl", model=tiny_model)
        assert [f.code for f in missing.errors] == ["file_unreadable"]
        assert "404" in missing.errors[0].message
    finally:
        server.shutdown()


def test_parallel_scan_works_with_spawned_workers(tmp_path, monkeypatch):
    path = write_jsonl(tmp_path / "t.jsonl", [example(f"ticket {i}") for i in range(400)])
    monkeypatch.setattr(scan, "PARALLEL_MIN_BYTES", 0)
    started: list[str] = []
    monkeypatch.setattr(scan, "_start_method", lambda: started.append("spawn") or "spawn")
    cuts = spy_on_ranges(monkeypatch)
    report = validate_files(path, workers=2)
    assert started == ["spawn"] and len(cuts) == 1 and len(cuts[0]) > 1
    assert report.valid and report.examples == 400
    assert report.to_dict() == validate_files(path, workers=1).to_dict()


def test_https_download_without_a_size_stops_at_the_limit(tmp_path, tiny_model):
    import http.server
    import threading

    class NoLength(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            self.send_response(200)
            self.end_headers()

        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            for _ in range(10):
                self.wfile.write(b"x" * 1000)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NoLength)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    uri = f"http://127.0.0.1:{server.server_address[1]}/stream.jsonl"
    try:
        report = validate_files(uri, model=tiny_model)
    finally:
        server.shutdown()
    assert [f.code for f in report.errors] == ["file_too_large"]
    assert report.errors[0].message.startswith(uri)


@pytest.fixture
def tiny_unconfirmed_model(tmp_path, monkeypatch, tiny_model):
    """``tiny_model`` whose caps are inherited from its family, not published."""
    from gemini_sft_kfp.core import models

    table = orjson.loads(Path(os.environ["GEMINI_SFT_MODEL_TABLE"]).read_bytes())
    entry = table["models"][0]
    entry["inherits_from"] = "tiny-family"
    entry["unconfirmed"] = [
        "max_validation_examples",
        "max_training_examples_text",
        "max_training_examples_multimodal",
        "max_file_bytes",
    ]
    path = tmp_path / "unconfirmed.json"
    path.write_bytes(orjson.dumps(table))
    monkeypatch.setenv("GEMINI_SFT_MODEL_TABLE", str(path))
    models.model_table.cache_clear()
    return tiny_model


def test_an_unconfirmed_cap_warns_and_never_rejects(tmp_path, tiny_unconfirmed_model):
    train = write_jsonl(tmp_path / "train.jsonl", [example(f"ticket {i}") for i in range(21)])
    validation = write_jsonl(tmp_path / "val.jsonl", [example()] * 4)
    report = validate_files(train, validation, model=tiny_unconfirmed_model)
    assert report.valid, report.errors
    unconfirmed = [f for f in report.warnings if f.code == "unconfirmed_limit"]
    assert len(unconfirmed) == 2  # training and validation counts
    assert all("not published for tiny-model" in f.message for f in unconfirmed)
    assert "max_file_bytes" in report.stats["unconfirmedLimits"]


def test_an_unconfirmed_file_size_is_read_anyway(tmp_path, tiny_unconfirmed_model):
    records = [example(f"ticket number {i} about my parcel") for i in range(80)]
    path = write_jsonl(tmp_path / "big.jsonl", records)
    assert os.path.getsize(path) > 4000
    report = validate_files(path, model=tiny_unconfirmed_model)
    assert "file_too_large" not in codes(report.errors)
    assert "unconfirmed_limit" in codes(report.warnings)
    assert report.stats["files"]["train"]["examples"] == 80
