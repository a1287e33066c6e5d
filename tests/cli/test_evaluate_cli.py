"""`gemini-sft evaluate`: the JSON shape other tools rely on, and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest
import typer
from typer.testing import CliRunner

from gemini_sft_kfp.cli import evaluate as evaluate_cli
from gemini_sft_kfp.core import clients
from gemini_sft_kfp.evaluation import evaluation
from tests.support.eval_fakes import FakeClient
from tests.support.eval_helpers import example, write_jsonl

REQUIRED_KEYS = {
    "examples": int,
    "errors": int,
    "tuned": dict,
    "baseline": dict,
    "passed": bool,
    "score": float,
}


@pytest.fixture
def cli(monkeypatch):
    """The evaluate command on its own app, with the model client replaced by a fake."""
    app = typer.Typer()
    app.callback()(lambda: None)
    evaluate_cli.register(app)
    fake = FakeClient(lambda model, prompt, config: "billing" if "/endpoints/" in model else "no")
    monkeypatch.setattr(evaluation, "default_client", lambda *a, **k: fake)
    monkeypatch.delenv(clients.VERTEX_EMULATOR_ENV, raising=False)

    def invoke(*args: str):
        return CliRunner().invoke(app, ["evaluate", *args])

    return invoke


def eval_file(tmp_path) -> str:
    records = [example(f"t{i}", ["billing", "refunds"][i % 2]) for i in range(6)]
    return write_jsonl(tmp_path / "eval.jsonl", records)


def test_json_shape(cli, tmp_path):
    result = cli(
        "--endpoint",
        "42",
        "--data",
        eval_file(tmp_path),
        "--baseline",
        "gemini-2.5-flash",
        "--project",
        "p",
        "--location",
        "us-central1",
        "--threshold",
        "0.4",
        "--output-dir",
        str(tmp_path / "out"),
        "--json",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)  # exactly one JSON object, nothing else
    for key, kind in REQUIRED_KEYS.items():
        assert isinstance(summary[key], kind), key
    assert summary["examples"] == 6 and summary["errors"] == 0
    assert summary["tuned"]["exact_match"] == 0.5 and summary["baseline"]["exact_match"] == 0.0
    assert summary["passed"] is True and summary["score"] == 0.5
    assert summary["endpoint"] == "projects/p/locations/us-central1/endpoints/42"
    assert (tmp_path / "out" / "report.md").read_text().startswith("# Evaluation")
    assert len((tmp_path / "out" / "predictions.jsonl").read_bytes().splitlines()) == 6


def test_fail_on_gate_exits_2(cli, tmp_path):
    args = [
        "--endpoint",
        "42",
        "--data",
        eval_file(tmp_path),
        "--project",
        "p",
        "--location",
        "l",
        "--threshold",
        "0.9",
        "--json",
        "-q",
    ]
    assert cli(*args).exit_code == 0
    failed = cli(*args, "--fail-on-gate")
    assert failed.exit_code == 2 and orjson.loads(failed.stdout)["passed"] is False


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    code = (
        "import sys; from gemini_sft_kfp.cli import main; "
        "sys.argv = ['gemini-sft', *sys.argv[1:]]; main()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_bad_data_file_is_one_line_naming_file_line_and_field_exit_1(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"contents": [{"role": "user", "parts": [{"text": "q"}]}]}\n')
    env = {"VERTEX_AI_EMULATOR_HOST": ""}
    result = run_cli(
        "evaluate",
        "--endpoint",
        "1",
        "--data",
        str(bad),
        "--project",
        "p",
        "--location",
        "l",
        "--json",
        env=env,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"{bad}:1" in result.stderr and "[contents]" in result.stderr
    assert result.stderr.count("\n") == 1  # one line
    assert "Traceback" not in result.stderr


def test_project_is_required_without_the_emulator(tmp_path):
    env = {"VERTEX_AI_EMULATOR_HOST": "", "GOOGLE_CLOUD_PROJECT": ""}
    result = run_cli("evaluate", "--endpoint", "1", "--data", eval_file(tmp_path), env=env)
    assert result.returncode == 1 and "--project" in result.stderr
    assert "Traceback" not in result.stderr


def test_endpoint_ids_expand_and_model_ids_pass_through():
    assert evaluate_cli.resolve_endpoint(" 42 ", "p", "l") == "projects/p/locations/l/endpoints/42"
    assert evaluate_cli.resolve_endpoint("gemini-2.5-flash", "p", "l") == "gemini-2.5-flash"
    name = "projects/x/locations/y/endpoints/7"
    assert evaluate_cli.resolve_endpoint(name, "p", "l") == name


def test_endpoint_name_from_the_artifact_metadata_or_its_uri():
    from types import SimpleNamespace

    from gemini_sft_kfp.components.evaluate_model.executor import endpoint_name

    name = "projects/p/locations/l/endpoints/9"
    assert endpoint_name(SimpleNamespace(metadata={"resourceName": name}, uri="")) == name
    uri = f"https://l-aiplatform.googleapis.com/v1/{name}"
    assert endpoint_name(SimpleNamespace(metadata={}, uri=uri)) == name


def test_ctrl_c_on_a_batch_evaluation_cancels_its_job_and_exits_130(emu, tmp_path):
    """A person stopping `gemini-sft evaluate --method batch` leaves no job billing."""
    import signal
    import time

    from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT

    from gemini_sft_kfp.core.clients import genai_client, storage_client
    from tests.support import REPO
    from tests.support.eval_helpers import tuned_endpoint

    endpoint = tuned_endpoint(str(REPO / "examples/data/train.jsonl"))
    storage_client(DEFAULT_PROJECT).create_bucket("ctrl-c")
    emu.service.batch_seconds = 600.0  # runs until cancelled
    args = ["--endpoint", endpoint, "--data", str(REPO / "examples/data/eval.jsonl")]
    args += ["--method", "batch", "--staging", "gs://ctrl-c/eval", "--json", "-q"]
    process = subprocess.Popen(
        [sys.executable, "-c", "from gemini_sft_kfp.cli import main; main()", "evaluate", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    client = genai_client(DEFAULT_PROJECT, DEFAULT_LOCATION)
    deadline = time.monotonic() + 60
    while not [r for r in emu.requests() if r["method"] == "batchPredictionJobs.get"]:
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGINT, err.decode()[-2000:]
    [job] = list(client.batches.list(config={"page_size": 10}))
    assert job.state.name == "JOB_STATE_CANCELLED"
    assert b"Traceback" not in err


def test_rerunning_a_killed_batch_evaluation_resumes_its_job_instead_of_paying_twice(emu, tmp_path):
    """kill -9 mid-wait (no chance to cancel), then the same command again: the job the
    dead run left running is found and awaited; no second one is created."""
    import time

    from gemini_sft_kfp.emulator import DEFAULT_PROJECT

    from gemini_sft_kfp.core.clients import storage_client
    from tests.support import REPO
    from tests.support.eval_helpers import tuned_endpoint

    endpoint = tuned_endpoint(str(REPO / "examples/data/train.jsonl"))
    storage_client(DEFAULT_PROJECT).create_bucket("killed")
    emu.service.batch_seconds = 4.0
    args = ["--endpoint", endpoint, "--data", str(REPO / "examples/data/eval.jsonl")]
    args += ["--method", "batch", "--staging", "gs://killed/eval", "--json", "-q"]
    command = [sys.executable, "-c", "from gemini_sft_kfp.cli import main; main()", "evaluate"]
    process = subprocess.Popen([*command, *args], stderr=subprocess.PIPE, env=os.environ.copy())
    deadline = time.monotonic() + 60
    while not [r for r in emu.requests() if r["method"] == "batchPredictionJobs.get"]:
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.05)
    process.kill()
    process.wait(timeout=30)
    again = subprocess.run([*command, *args], capture_output=True, env=os.environ.copy())
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    assert orjson.loads(again.stdout)["examples"] == 120
    creates = [r for r in emu.requests() if r["method"] == "batchPredictionJobs.create"]
    assert len(creates) == 1


@pytest.mark.parametrize("blocked", ["predictions.jsonl", "report.md"])
def test_an_unwritable_output_is_refused_before_any_model_call_and_nothing_is_half_written(
    cli, tmp_path, monkeypatch, blocked
):
    """A directory in the way of one output file: refused up front (not after a paid
    evaluation), and neither file is left behind without the other."""
    calls = []
    monkeypatch.setattr(
        evaluation, "evaluate", lambda *a, **k: calls.append(a) or pytest.fail("evaluated")
    )
    out = tmp_path / "out"
    (out / blocked).mkdir(parents=True)
    args = ["--endpoint", "42", "--data", eval_file(tmp_path), "--project", "p"]
    result = cli(*args, "--location", "l", "--output-dir", str(out), "--json", "-q")
    from gemini_sft_kfp.core.errors import UserError

    assert isinstance(result.exception, UserError) and not calls  # main(): one line, exit 1
    assert str(out / blocked) == result.exception.file
    assert sorted(p.name for p in out.iterdir()) == [blocked]


def test_outputs_are_written_whole_or_not_at_all(cli, tmp_path, monkeypatch):
    from gemini_sft_kfp.evaluation import report

    def broken(_result):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "render", broken)
    out = tmp_path / "out"
    args = ["--endpoint", "42", "--data", eval_file(tmp_path), "--project", "p"]
    result = cli(*args, "--location", "l", "--output-dir", str(out), "--json", "-q")
    assert result.exit_code != 0
    assert not list(out.iterdir())  # no predictions.jsonl without its report
