"""Against the emulator: throttling loses nothing, the CLI's JSON."""

import orjson
import pytest
import typer
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT
from typer.testing import CliRunner

from gemini_sft_kfp.cli import evaluate as evaluate_cli
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.evaluation.evaluation import EvalConfig, evaluate
from gemini_sft_kfp.evaluation.runner import Settings
from tests.support import REPO
from tests.support.eval_helpers import tuned_endpoint

DATA = REPO / "examples" / "data"
GENERATE = "endpoints.generateContent"


@pytest.fixture
def endpoint(emu) -> str:
    return tuned_endpoint(str(DATA / "train.jsonl"))


def test_injected_429s_are_retried_and_no_example_is_dropped(emu, endpoint):
    emu.add_fault(method=GENERATE, status=429, rate=0.1)
    config = EvalConfig(
        eval_data=str(DATA / "eval.jsonl"),
        endpoint=endpoint,
        concurrency=8,
        settings=Settings(retry_initial_seconds=0.01, retry_max_seconds=0.1),
    )
    result = evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, config)

    throttled = [r for r in emu.requests() if r["method"] == GENERATE and r["status"] == 429]
    assert throttled, "the fault never fired: the test would prove nothing"
    predictions = result.tuned.predictions
    assert len(predictions) == len(result.examples) == 120
    assert all(p.ok and p.text for p in predictions)
    assert sum(p.attempts - 1 for p in predictions) == len(throttled)
    assert result.simulated


def test_missing_gcs_eval_data_is_a_user_error(emu):
    config = EvalConfig(eval_data="gs://no-such-bucket/eval.jsonl", endpoint="p/endpoints/1")
    with pytest.raises(UserError) as info:
        evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, config)
    assert info.value.file == "gs://no-such-bucket/eval.jsonl"
    assert not [r for r in emu.requests() if r["method"] == GENERATE]


def test_cli_json_against_the_emulator(emu, endpoint, tmp_path):
    app = typer.Typer()
    app.callback()(lambda: None)
    evaluate_cli.register(app)
    args = [
        "evaluate",
        "--endpoint",
        endpoint,
        "--data",
        str(DATA / "eval.jsonl"),
        "--baseline",
        "gemini-2.5-flash",
        "--min-improvement",
        "0.2",
        "--json",
        "-q",
        "--output-dir",
        str(tmp_path),
    ]  # project and location: the emulator's defaults
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert summary["examples"] == 120 and summary["errors"] == 0
    # the simulated tuned model recalls the training labels; the base model does not
    assert summary["tuned"]["accuracy"] > summary["baseline"]["accuracy"] + 0.2
    assert summary["passed"] is True and summary["score"] == summary["tuned"]["exact_match"]
    assert summary["simulated"] is True
    assert "Simulated" in (tmp_path / "report.md").read_text()


def test_a_baseline_that_does_not_exist_is_refused_before_the_tuned_model_is_called(emu, endpoint):
    """A typo in --baseline was found only after every tuned example had been paid for."""
    missing = f"projects/{DEFAULT_PROJECT}/locations/{DEFAULT_LOCATION}/endpoints/404"
    for baseline in ("gemini-9-flash", missing):
        config = EvalConfig(
            eval_data=str(DATA / "eval.jsonl"), endpoint=endpoint, baseline=baseline
        )
        with pytest.raises(UserError) as refused:
            evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, config)
        assert refused.value.field == "baseline" and "404" in str(refused.value)
    assert not [r for r in emu.requests() if r["method"] == GENERATE]
