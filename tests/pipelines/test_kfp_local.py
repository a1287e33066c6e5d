"""The local-run log stream: progress events from kfp's output, full text to the log."""

from __future__ import annotations

import io

import orjson
from gemini_sft_kfp.pipelines.local.kfp_runner import (
    RunResult,
    TaskEvent,
    _ProgressStream,
    read_task_outputs,
    task_log_tail,
)

CYAN, GREEN, RED, RESET = "\033[96m", "\033[92m", "\033[91m", "\033[0m"


def test_task_starts_and_ends_become_events_and_everything_is_logged():
    log, events = io.StringIO(), []
    stream = _ProgressStream(log, events.append)
    stream.write(f"12:00:00.000 - INFO - Executing task {CYAN}'validate-dataset'{RESET}\n")
    stream.write("    some streamed ")  # a line split across writes
    stream.write("output\n")
    stream.write(
        f"12:00:01.000 - INFO - Task {CYAN}'validate-dataset'{RESET} finished with status "
        f"{GREEN}SUCCESS{RESET}\n"
    )
    stream.write(
        f"Task {CYAN}'launch-tuning-job'{RESET} finished with status {RED}FAILURE{RESET}\n"
    )
    assert [(e.task, e.status) for e in events] == [
        ("validate-dataset", None),
        ("validate-dataset", "SUCCESS"),
        ("launch-tuning-job", "FAILURE"),
    ]
    assert all(isinstance(e, TaskEvent) for e in events)
    assert "some streamed output" in log.getvalue()
    assert stream.finished == {"validate-dataset": "SUCCESS", "launch-tuning-job": "FAILURE"}


def test_task_outputs_are_read_back_from_executor_output_files(tmp_path):
    task_dir = tmp_path / "evaluate-model"
    task_dir.mkdir()
    (task_dir / "executor_output.json").write_bytes(
        orjson.dumps(
            {
                "parameterValues": {"passed": True, "score": 0.9},
                "artifacts": {
                    "report": {
                        "artifacts": [{"name": "report", "uri": "/x/report", "metadata": {}}]
                    }
                },
            }
        )
    )
    outputs = read_task_outputs(tmp_path)
    result = RunResult(True, tmp_path, tmp_path / "run.log", 1.0, outputs, {})
    assert result.parameter("evaluate-model", "passed") is True
    assert result.artifact("evaluate-model", "report")["uri"] == "/x/report"
    assert result.parameter("register-model") is None


def test_log_tail_shows_the_failed_tasks_own_lines(tmp_path):
    log = tmp_path / "run.log"
    log.write_text(
        "Executing task 'a'\n    fine\nTask 'a' finished with status SUCCESS\n"
        f"Executing task {CYAN}'b'{RESET}\n    Streamed logs:\n    Traceback\n"
        "    UserError: adapter size 16 is not available\n"
        "Task 'b' finished with status FAILURE\n"
    )
    tail = task_log_tail(log, "b")
    assert tail[-1] == "UserError: adapter size 16 is not available"
    assert "fine" not in tail


def test_log_tail_of_a_traceback_is_the_exception_message(tmp_path):
    log = tmp_path / "run.log"
    log.write_text(
        "Executing task 'validate-dataset'\n"
        "    Traceback (most recent call last):\n"
        '      File "/x/prepare.py", line 116, in prepare_dataset\n'
        '        raise UserError(f"the dataset is invalid:", code="invalid_dataset")\n'
        "        ^^^^^^^^^^^^^^^^\n"
        "    gemini_sft_kfp.core.errors.UserError: the dataset is invalid:\n"
        "    error: train.jsonl:3: invalid_json: not valid JSON\n"
        "    12:00:01.000 - ERROR -\n"
        "Task 'validate-dataset' finished with status FAILURE\n"
    )
    assert task_log_tail(log, "validate-dataset") == [
        "error: the dataset is invalid",
        "error: train.jsonl:3: invalid_json: not valid JSON",
    ]
