"""Every JSONL reader caps line length: an over-cap line is an error naming file, line and
cap, read in bounded memory (a subprocess measures peak RSS on a 64 MB line)."""

from __future__ import annotations

import io
import subprocess
import sys

import orjson
import pytest

from gemini_sft_kfp.core import jsonl, models
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.jsonl import OversizedLine, checked_lines, iter_lines, skip_line

GOOD = orjson.dumps(
    {
        "contents": [
            {"role": "user", "parts": [{"text": "hi"}]},
            {"role": "model", "parts": [{"text": "yo"}]},
        ]
    }
)
HUGE_LINE_BYTES = 64 << 20
LOWERED_CAP = 1 << 20
RSS_GROWTH_LIMIT_MB = 24  # the 64 MB line, read whole, costs 64 MB or more


@pytest.mark.parametrize("block", [1, 3, 7, 1024])
def test_lines_match_file_iteration_whatever_the_block_size(block):
    data = b"a\n\nbc\r\n" + b"x" * 20 + b"\nlast"
    lines = list(iter_lines(io.BytesIO(data), cap=100)) if block == 1024 else None
    batched = [x for b in jsonl.line_batches(io.BytesIO(data), 100, block=block) for x in b]
    expected = [raw.rstrip(b"\n") for raw in io.BytesIO(data)]
    assert batched == expected
    assert lines in (None, expected)


@pytest.mark.parametrize("block", [2, 5, 64])
def test_a_line_over_the_cap_is_replaced_by_its_length_and_reading_goes_on(block):
    data = b"ok\n" + b"y" * 50 + b"\nok2\n" + b"z" * 11
    lines = [x for b in jsonl.line_batches(io.BytesIO(data), 10, block=block) for x in b]
    assert lines[0] == b"ok" and lines[2] == b"ok2"
    assert type(lines[1]) is OversizedLine and lines[1].size == 50
    assert type(lines[3]) is OversizedLine and lines[3].size == 11
    assert len(lines) == 4


def test_a_limit_stops_reading_at_a_range_end():
    f = io.BytesIO(b"one\ntwo\nthree\n")
    assert [x for b in jsonl.line_batches(f, 100, limit=8) for x in b] == [b"one", b"two"]


def test_checked_lines_names_file_line_and_cap():
    data = io.BytesIO(b"{}\n" + b"q" * 30 + b"\n{}\n")
    with pytest.raises(UserError) as caught:
        list(checked_lines(data, file="eval.jsonl", cap=16))
    assert (caught.value.file, caught.value.line) == ("eval.jsonl", 2)
    assert "30 bytes" in caught.value.message and "16-byte cap" in caught.value.message


def test_skip_line_moves_past_the_next_newline_without_readline():
    f = io.BytesIO(b"a" * 100 + b"\nrest")
    f.seek(10)
    assert skip_line(f, block=7) == 101 and f.read() == b"rest"
    f.seek(102)
    assert skip_line(f, block=7) == 105


def test_the_cap_comes_from_the_model_table_and_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(jsonl.LINE_CAP_ENV, raising=False)
    assert jsonl.max_line_bytes() == 131072 * jsonl.BYTES_PER_TOKEN_BOUND
    big = {"id": "big-context", "family": "big", "max_example_tokens": 1_000_000}
    big |= {"adapter_sizes": [1], "max_validation_examples": 1, "max_file_bytes": 1}
    big |= {"max_training_examples_text": 1, "max_training_examples_multimodal": 1}
    big |= {"tokenizer": "gemma3", "thinking": False, "supported": True}
    (tmp_path / "table.json").write_bytes(orjson.dumps({"models": [big]}))
    monkeypatch.setenv("GEMINI_SFT_MODEL_TABLE", str(tmp_path / "table.json"))
    models.model_table.cache_clear()
    try:
        assert jsonl.max_line_bytes() == 1_000_000 * jsonl.BYTES_PER_TOKEN_BOUND
    finally:
        monkeypatch.delenv("GEMINI_SFT_MODEL_TABLE")
        models.model_table.cache_clear()
    monkeypatch.setenv(jsonl.LINE_CAP_ENV, "1234")
    assert jsonl.max_line_bytes() == 1234
    monkeypatch.setenv(jsonl.LINE_CAP_ENV, "lots")
    with pytest.raises(UserError, match=jsonl.LINE_CAP_ENV):
        jsonl.max_line_bytes()


# Each script reads a small file, then the 64 MB-line file, in one process, and prints the
# growth of peak RSS between the two (MB): the import and warm-up costs cancel out.
_MEASURE = """
import sys
from gemini_sft_kfp.core.errors import UserError
def peak_mb():  # VmHWM: ru_maxrss would start at the (larger) pytest worker's size
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmHWM:")) / 1024
def run(path):
{body}
run(sys.argv[1])
before = peak_mb()
outcome = run(sys.argv[2])
print(peak_mb() - before)
print(outcome)
"""
READERS = {
    "validate": """
    from gemini_sft_kfp.components.validate_dataset.validator import validate_files
    report = validate_files(path, model="gemini-2.5-flash", token_counter="estimate")
    return [f"{e.file}:{e.line} {e.code}" for e in report.errors]
""",
    "convert": """
    from gemini_sft_kfp.components.validate_dataset.convert import convert_file
    try:
        convert_file(path, path + ".out")
    except UserError as exc:
        return str(exc)
""",
    "eval": """
    from gemini_sft_kfp.evaluation.eval_data import read_examples
    try:
        read_examples(path)
    except UserError as exc:
        return str(exc)
""",
}


@pytest.fixture(scope="module")
def huge_line_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("huge")
    small, huge = directory / "small.jsonl", directory / "huge.jsonl"
    small.write_bytes((GOOD + b"\n") * 20)
    with huge.open("wb") as f:
        f.write((GOOD + b"\n") * 3)
        f.write(b'{"contents": [{"role": "user", "parts": [{"text": "')
        for _ in range(HUGE_LINE_BYTES >> 20):
            f.write(b"a" * (1 << 20))
        f.write(b'"}]}]}\n')
        f.write((GOOD + b"\n") * 16)
    return small, huge


def _measure(reader: str, small, big) -> tuple[float, str]:
    """(peak RSS growth in MB from reading ``small`` to reading ``big``, the outcome) of
    ``reader`` in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE.format(body=READERS[reader]), str(small), str(big)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return float(out[0]), out[1]


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_64mb_line_is_refused_in_bounded_memory(reader, huge_line_files, monkeypatch):
    small, huge = huge_line_files
    monkeypatch.setenv(jsonl.LINE_CAP_ENV, str(LOWERED_CAP))
    growth, outcome = _measure(reader, small, huge)
    assert growth < RSS_GROWTH_LIMIT_MB, f"{reader}: peak RSS grew {growth:.0f} MB"
    if reader == "validate":
        assert outcome == f"['{huge}:4 line_too_long']"
    else:
        assert f"{huge}:4" in outcome and f"{LOWERED_CAP:,}-byte cap" in outcome


def _parts_line(parts: int) -> bytes:
    """A line under the byte cap whose JSON values, parsed, cost far more than its bytes."""
    many = b",".join([b'{"text": "a"}'] * parts)
    return b'{"contents": [{"role": "user", "parts": [' + many + b"]}, " + GOOD[13:] + b"\n"


def _openai_line(turns: int) -> bytes:
    pair = b'{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}'
    return b'{"messages": [' + b", ".join([pair] * turns) + b"]}\n"


@pytest.fixture(scope="module")
def many_values_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("values")
    small, many = directory / "small.jsonl", directory / "many.jsonl"
    small.write_bytes((GOOD + b"\n") * 20)
    many.write_bytes((GOOD + b"\n") * 3 + _parts_line(800_000) + (GOOD + b"\n") * 16)
    return small, many


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_line_of_too_many_json_values_is_refused_unparsed(reader, many_values_files):
    """10 MB of ``{"text": "a"}`` parts is under the byte cap but took ~300 MB parsed (a
    30 MB one 800 MB): values past ``MAX_VALUES_PER_LINE`` are refused like bytes."""
    small, many = many_values_files
    growth, outcome = _measure(reader, small, many)
    assert growth < 2 * RSS_GROWTH_LIMIT_MB, f"{reader}: peak RSS grew {growth:.0f} MB"
    if reader == "validate":
        assert outcome == f"['{many}:4 line_too_long']"
    else:
        assert f"{many}:4" in outcome and "JSON values" in outcome


# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a child of a big pytest
# worker would report the worker's size; the high-water mark belongs to this process only.
_PEAK = """
import sys
from gemini_sft_kfp.core.errors import UserError
def run(path):
{body}
print(run(sys.argv[1]))
with open("/proc/self/status") as status:
    print(next(int(l.split()[1]) for l in status if l.startswith("VmHWM:")) / 1024)
"""


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("shape", ["parts", "openai-turns"])
def test_the_largest_line_read_stays_under_200_mb(reader, shape, tmp_path):
    """Just under the value cap, in the costliest shapes found (a Gemini part per value;
    OpenAI turns, converted), every reader's whole process peaks below 200 MB."""
    values = jsonl.MAX_VALUES_PER_LINE - 10
    line = _parts_line(values) if shape == "parts" else _openai_line(values // 4)
    path = tmp_path / "big.jsonl"
    path.write_bytes(line + (GOOD + b"\n") * 19)
    out = subprocess.run(
        [sys.executable, "-c", _PEAK.format(body=READERS[reader]), str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert "JSON values" not in out[0], out[0]  # read, not refused
    assert float(out[1]) < 200, f"{reader} {shape}: peak RSS {float(out[1]):.0f} MB"


def test_values_are_counted_only_on_lines_long_enough_to_pass_the_bound():
    short = b"," * 1000
    assert jsonl._bounded(short) is short
    long = b"," * (jsonl.MAX_VALUES_PER_LINE + 5)
    refused = jsonl._bounded(long)
    assert type(refused) is OversizedLine and refused.values == len(long) + 1
    text = b'{"a": "' + b"x" * (jsonl.MAX_VALUES_PER_LINE * 2) + b'"}'
    assert jsonl._bounded(text) is text  # long, but one value: read


def test_tiny_lines_come_in_batches_of_bounded_count_not_one_per_4_mb_block():
    """8 million lines of ``{}`` peaked at 196 MB in validate (each line an object before
    any was parsed); reads now follow the lines' length (46 MB measured)."""
    lines = 1_500_000
    batches = list(jsonl.line_batches(io.BytesIO(b"{}\n" * lines)))
    assert sum(map(len, batches)) == lines
    assert max(map(len, batches)) <= 2 * jsonl.LINES_PER_BATCH


def test_long_lines_still_come_in_full_blocks():
    line = b'{"contents": "' + b"x" * 2000 + b'"}'
    batches = list(jsonl.line_batches(io.BytesIO((line + b"\n") * 20_000)))
    assert max(len(b) * len(line) for b in batches) > jsonl.READ_BLOCK_BYTES // 2
