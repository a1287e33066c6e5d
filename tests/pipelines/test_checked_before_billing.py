"""Every option is checked before anything is billed (issue 14, section 1).

Before: ``run --metric foo`` (``--gate foo``, ``--threshold nan``, an empty or binary
``--eval``, ``--location "us central1"``) tuned a model and then failed, leaving it
neither registered nor deleted; ``submit``/``schedule`` sent invalid values to Vertex
as accepted runs and schedules. Now one check (``check_run_inputs``) runs before
anything is created, in the CLI and again as the pipelines' first task.
"""

from __future__ import annotations

import math

import orjson
import pytest
import yaml
from gemini_sft_kfp.components.check_run_inputs.executor import check_arguments
from gemini_sft_kfp.components.check_run_inputs.executor import run as first_task
from typer.testing import CliRunner

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.evaluation.gate import decide
from tests.support import REPO
from tests.support.pipeline_helpers import CLOUD_OPTIONS, needs_components

pytestmark = needs_components

SAMPLE = REPO / "examples" / "data"
GOOD = {
    "project": "local-project",
    "location": "us-central1",
    "training_data": str(SAMPLE / "train.jsonl"),
    "eval_data": str(SAMPLE / "eval.jsonl"),
    "bucket": "gemini-sft-local",
    "base_model": "gemini-2.5-flash",
    "epochs": 0,
    "learning_rate_multiplier": 0.0,
    "eval_metric": "exact_match",
    "eval_threshold": 0.0,
    "eval_min_improvement": 0.0,
    "eval_gate": "all",
    "eval_concurrency": 8,
    "model_aliases": ["champion"],
    "labels": {},
}
CLOUD = (*CLOUD_OPTIONS, "--pipeline", "sft")
BAD_CLOUD_OPTIONS = [
    ("--epochs", "-1"),
    ("--epochs", "1000000"),
    ("--learning-rate-multiplier", "-1"),
    ("--threshold", "2"),
    ("--threshold", "nan"),
    ("--gate", "foo"),
    ("--metric", "foo"),
    ("--concurrency", "-3"),
    ("--label", "Bad Key=x"),
    ("--alias", "Not An Alias"),
    ("--param", "eval_temperature=inf"),
]


def _state(emu) -> dict:
    return orjson.loads(emu.dump_state())


def _invoke(cli_app, *args: str):
    return CliRunner().invoke(cli_app, list(args))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"eval_metric": "foo"}, "metric"),
        ({"eval_gate": "foo"}, "gate"),
        ({"eval_threshold": math.nan}, "threshold"),
        ({"eval_threshold": 2.0}, "threshold"),
        ({"eval_min_improvement": math.inf}, "min_improvement"),
        ({"location": "us central1"}, "location"),
        ({"location": "mars-north1"}, "location"),
        ({"project": "my project"}, "project"),
        ({"bucket": "PWN ED"}, "bucket"),
        ({"epochs": -1}, "epochs"),
        ({"epochs": 1_000_000}, "epochs"),
        ({"learning_rate_multiplier": -1.0}, "learning_rate_multiplier"),
        ({"eval_concurrency": -3}, "eval_concurrency"),
        ({"labels": {"Bad Key": "x"}}, "labels"),
        ({"model_aliases": ["Not An Alias"]}, "alias"),
        ({"champion_alias": "Not An Alias"}, "champion_alias"),  # was refused after launch
        ({"bucket": ""}, "bucket"),  # was an IndexError in the storage client
        ({"eval_judge_metrics": [1, None]}, "eval_judge_metrics"),  # was an AttributeError
        ({"dataset_prefix": "x" * 800}, "dataset_prefix"),  # the upload's 400, after validate
        ({"dataset_prefix": "data\nsets"}, "dataset_prefix"),
        ({"kms_key_name": "my-key"}, "kms_key_name"),
        ({"eval_data": ""}, "eval_data"),
        ({"base_model": "gemini-0-nope"}, None),
    ],
)
def test_the_first_task_refuses_what_vertex_or_a_later_step_would(changes, field):
    with pytest.raises(UserError) as refused:
        first_task(**{**GOOD, **changes})
    if field:
        assert refused.value.field == field, refused.value


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02\xff" * 64, b'{"contents": 5}\n'])
def test_the_eval_file_is_read_and_parsed_before_tuning(tmp_path, content):
    bad = tmp_path / "eval.jsonl"
    bad.write_bytes(content)
    with pytest.raises(UserError) as refused:
        check_arguments({**GOOD, "eval_data": str(bad)})
    assert str(bad) in str(refused.value)


def test_good_arguments_pass():
    check_arguments(GOOD)


def test_the_gate_never_passes_on_nan_or_out_of_range():
    for threshold in (math.nan, 2.0, -0.5):
        with pytest.raises(UserError):
            decide("exact_match", 0.9, 0.1, threshold=threshold)
    with pytest.raises(UserError):
        decide("exact_match", math.nan, 0.1, threshold=0.5)


def test_compiled_pipelines_check_their_inputs_first():
    for name in ("sft_pipeline", "continuous_tuning_pipeline"):
        spec = yaml.safe_load((REPO / "compiled" / f"{name}.yaml").read_text())
        dag = spec["root"]["dag"]["tasks"]
        (handler,) = [t for name, t in dag.items() if name.startswith("exit-handler")]
        inner = spec["components"][handler["componentRef"]["name"]]["dag"]["tasks"]
        first = [n for n, t in inner.items() if not t.get("dependentTasks")]
        assert first == ["check-run-inputs"], (name, first)
        for task in ("validate-dataset", "launch-tuning-job"):
            assert task in inner


@pytest.mark.parametrize(
    "options",
    [
        ("--metric", "foo"),
        ("--gate", "foo"),
        ("--threshold", "nan"),
        ("--location", "us central1"),
        ("--eval", "{empty}"),
        ("--eval", "{binary}"),
    ],
)
def test_run_refuses_before_any_tuning_job(emu, cli_app, tmp_path, options):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "binary.jsonl").write_bytes(bytes(range(256)) * 4)
    places = {"empty": str(tmp_path / "empty.jsonl"), "binary": str(tmp_path / "binary.jsonl")}
    option, value = options
    result = _invoke(
        cli_app, "run", "--output-dir", str(tmp_path / "runs"), option, value.format(**places)
    )
    assert isinstance(result.exception, UserError), (result.exception, result.output)
    assert _state(emu)["tuningJobs"] == {}  # nothing tuned, nothing billed


@pytest.mark.parametrize("option", BAD_CLOUD_OPTIONS, ids=lambda o: " ".join(o))
def test_submit_sends_nothing_invalid(emu, cli_app, option):
    result = _invoke(cli_app, "submit", *CLOUD, *option)
    assert isinstance(result.exception, UserError), (result.exception, result.output)
    assert _state(emu)["pipelineJobs"] == {}


@pytest.mark.parametrize(
    "option",
    [
        *BAD_CLOUD_OPTIONS,
        ("--project", "my project"),
        ("--max-run-count", "-1"),
        ("--start-time", "2030-01-02T00:00:00Z", "--end-time", "2030-01-01T00:00:00Z"),
    ],
    ids=lambda o: " ".join(o),
)
def test_schedule_creates_nothing_invalid(emu, cli_app, option):
    args = list(CLOUD)
    if option[0] == "--project":
        args[1] = option[1]
        option = ()
    result = _invoke(cli_app, "schedule", "--cron", "0 3 * * *", *args, *option)
    assert isinstance(result.exception, UserError), (result.exception, result.output)
    assert _state(emu)["schedules"] == {} and _state(emu)["pipelineJobs"] == {}


# --- issue 15: the evaluation's method and judge metrics; issue 12's lineage and
# evaluation_config. Each is refused by the first task and by run/submit/schedule.
NEW_CHECKS = [
    ({"eval_method": "sometimes"}, "eval_method"),
    ({"eval_judge_metrics": ["fluency", "nope"]}, "eval_judge_metrics"),
    ({"eval_judge_metrics": ["rubric"]}, "eval_judge_rubric"),
    ({"eval_metric": "judge_rubric", "eval_judge_rubric": "  "}, "eval_judge_rubric"),
    ({"eval_method": "batch", "eval_staging_uri": "/tmp/eval"}, "eval_staging_uri"),
    ({"eval_method": "auto", "eval_staging_uri": "gs://PWN ED/eval"}, "eval_staging_uri"),
    ({"eval_method": "batch", "location": "global"}, "eval_method"),
    ({"lineage": "Ticket Routing"}, "lineage"),
    ({"lineage": "x" * 64}, "lineage"),
    ({"evaluation_config": {"metrics": []}}, "evaluation_config.metrics"),
    ({"evaluation_config": {"metric": [{"bleuSpec": {}}]}}, "evaluation_config"),
]


@pytest.mark.parametrize(("changes", "field"), NEW_CHECKS)
def test_the_first_task_refuses_bad_evaluation_lineage_and_tuning_evaluation(changes, field):
    with pytest.raises(UserError) as refused:
        first_task(**{**GOOD, **changes})
    assert refused.value.field == field, refused.value
    assert "\n" not in str(refused.value)


def test_the_first_task_outputs_the_evaluation_settings_evaluate_model_takes():
    staging, judges, needed_by = first_task(
        **GOOD,
        eval_method="batch",
        eval_judge_metrics=["judge_fluency", "win_rate", "fluency"],
        pipeline_job_id="run-123",
    )
    assert staging == "gs://gemini-sft-local/gemini-sft/eval/run-123"  # derived per run
    assert judges == "fluency,win_rate"
    assert needed_by == "eval_judge_metrics=win_rate"
    given = {**GOOD, "bucket": "gs://b/", "eval_staging_uri": "gs://mine/eval/"}
    assert first_task(**given, eval_method="batch")[0] == "gs://mine/eval"
    assert first_task(**{**GOOD, "bucket": "gs://b/"}, pipeline_job_id="r")[0] == (
        "gs://b/gemini-sft/eval/r"
    )
    win_rate = {**GOOD, "eval_metric": "judge_win_rate"}
    assert first_task(**win_rate)[2] == "eval_metric=judge_win_rate"
    assert first_task(**{**GOOD, "eval_gate": "improvement"})[2] == "eval_gate=improvement"
    assert first_task(**GOOD)[2] == ""


def test_judge_gates_win_rate_and_a_good_tuning_evaluation_pass():
    check_arguments(
        {
            **GOOD,
            "eval_metric": "judge_win_rate",  # sft: the champion or the base model is there
            "eval_judge_metrics": ["fluency", "rubric"],
            "eval_judge_rubric": "Answers in one polite sentence.",
            "eval_method": "batch",
            "lineage": "ticket-routing",
            "evaluation_config": {
                "metrics": [{"exactMatchSpec": {}}],
                "outputConfig": {"gcsDestination": {"outputUriPrefix": "gs://b/eval"}},
            },
        }
    )


def test_a_comparison_without_a_champion_fails_before_tuning():
    """Continuous tuning's first run has no baseline: win_rate (or gate "improvement")
    fails at the champion step, which runs before the launch."""
    from gemini_sft_kfp.components.get_champion.executor import require_baseline

    with pytest.raises(UserError) as refused:
        require_baseline("", "eval_judge_metrics=win_rate", alias="champion", lineage="x")
    assert refused.value.field == "eval_judge_metrics" and "champion" in str(refused.value)
    require_baseline("", "", alias="champion", lineage="x")  # nothing compares: fine
    require_baseline("gemini-2.5-flash", "eval_gate=improvement", alias="c", lineage="x")


NEW_CLI_OPTIONS = [
    ("--eval-method", "sometimes"),
    ("--judge-metric", "nope"),
    ("--judge-metric", "rubric"),
    ("--eval-method", "batch", "--param", "eval_staging_uri=/tmp/x"),
    ("--param", "lineage=Ticket Routing"),
    ("--param", 'evaluation_config={"metrics": []}'),
]


@pytest.mark.parametrize("option", NEW_CLI_OPTIONS, ids=lambda o: " ".join(o))
def test_run_submit_and_schedule_refuse_bad_evaluation_settings(emu, cli_app, tmp_path, option):
    ran = _invoke(cli_app, "run", "--output-dir", str(tmp_path / "runs"), *option)
    submitted = _invoke(cli_app, "submit", *CLOUD, *option)
    scheduled = _invoke(cli_app, "schedule", "--cron", "0 3 * * *", *CLOUD, *option)
    for result in (ran, submitted, scheduled):
        assert isinstance(result.exception, UserError), (result.exception, result.output)
    state = _state(emu)
    assert state["tuningJobs"] == {} and state["pipelineJobs"] == {} and state["schedules"] == {}


def test_a_bad_judge_metric_is_one_line_exit_1(emu, tmp_path):
    import subprocess
    import sys

    command = [sys.executable, "-c", "from gemini_sft_kfp.cli import main; main()", "run"]
    args = ["--output-dir", str(tmp_path), "--judge-metric", "rubric"]
    result = subprocess.run(command + args, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert "[eval_judge_rubric]" in line and "criteria" in line
    assert emu.requests() == []


def test_continuous_win_rate_without_a_champion_stops_at_the_champion_step(emu):
    """The get_champion task itself refuses (no champion in the empty registry), and in
    the compiled continuous pipeline it gets the setting from the check and precedes the
    launch: nothing is tuned."""
    from types import SimpleNamespace

    from gemini_sft_kfp.components import get_champion

    with pytest.raises(UserError) as refused:
        get_champion.python_func(
            project="local-project",
            location="us-central1",
            champion=SimpleNamespace(uri="", metadata={}),
            lineage="first-run",
            baseline_needed_by="eval_metric=judge_win_rate",
        )
    assert refused.value.field == "eval_metric"
    spec = yaml.safe_load((REPO / "compiled" / "continuous_tuning_pipeline.yaml").read_text())
    (handler,) = [name for name in spec["components"] if name.startswith("comp-exit-handler")]
    tasks = spec["components"][handler]["dag"]["tasks"]
    needed = tasks["get-champion"]["inputs"]["parameters"]["baseline_needed_by"]
    assert needed["taskOutputParameter"]["producerTask"] == "check-run-inputs"
    assert "get-champion" in tasks["launch-tuning-job"]["dependentTasks"]
    assert _state(emu)["tuningJobs"] == {}
