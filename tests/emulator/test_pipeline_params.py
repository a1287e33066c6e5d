"""Submitted pipeline jobs are typed and reported as Vertex AI Pipelines types and reports them.

A REST client's parameter values are protobuf Values (one number kind): ``--epochs 3``
arrives as ``3.0``; Vertex types it by the spec's root inputs, and refuses ``2.5`` for an
integer input when the job is created. A failed run names its failed task and error.
"""

# no "from __future__ import annotations": KFP reads the component annotations

import time
from pathlib import Path

import orjson
import pytest
import yaml
from gemini_sft_kfp.emulator.common.api_errors import ApiError
from gemini_sft_kfp.emulator.vertex_pipelines.pipeline_params import typed_parameter_values
from google.cloud import aiplatform_v1
from google.protobuf import json_format

from tests.support.emu_helpers import PARENT, call

SPEC = {
    "root": {
        "inputDefinitions": {
            "parameters": {
                "n": {"parameterType": "NUMBER_INTEGER"},
                "x": {"parameterType": "NUMBER_DOUBLE"},
                "b": {"parameterType": "BOOLEAN"},
                "s": {"parameterType": "STRING"},
                "items": {"parameterType": "LIST"},
                "d": {"parameterType": "STRUCT"},
            }
        }
    }
}


@pytest.mark.parametrize(
    ("name", "given", "typed"),
    [
        ("n", 3.0, 3),
        ("n", 3, 3),
        ("x", 2, 2.0),
        ("x", 0.25, 0.25),
        ("b", True, True),
        ("s", "3", "3"),
        ("items", ["a", 1.0], ["a", 1.0]),
        ("d", {"k": "v"}, {"k": "v"}),
        ("undeclared", 1.0, 1.0),
    ],
)
def test_values_are_typed_by_the_spec(name, given, typed):
    [(_, value)] = typed_parameter_values(SPEC, {name: given}).items()
    assert value == typed and type(value) is type(typed)


@pytest.mark.parametrize(
    ("name", "given", "words"),
    [
        ("n", 2.5, "not an integer"),
        ("n", True, "NUMBER_INTEGER"),
        ("n", "3", "NUMBER_INTEGER"),
        ("x", "0.5", "NUMBER_DOUBLE"),
        ("b", 1, "BOOLEAN"),
        ("s", 3, "STRING"),
        ("items", "a,b", "LIST"),
        ("d", ["k"], "STRUCT"),
    ],
)
def test_values_the_spec_cannot_take_are_invalid_argument(name, given, words):
    with pytest.raises(ApiError) as caught:
        typed_parameter_values(SPEC, {name: given})
    assert caught.value.status == "INVALID_ARGUMENT" and words in caught.value.message
    assert name in caught.value.message


@pytest.fixture(scope="module")
def failing_spec(tmp_path_factory) -> dict:
    from kfp import compiler, dsl

    @dsl.component(base_image="python:3.11")
    def double(n: int) -> int:
        return n * 2

    @dsl.component(base_image="python:3.11")
    def refuse(n: int):
        raise ValueError(f"n={n!r} is not welcome")

    @dsl.pipeline(name="refusing")
    def refusing(n: int = 1):
        refuse(n=double(n=n).output)

    path = tmp_path_factory.mktemp("pipeline") / "refusing.yaml"
    compiler.Compiler().compile(refusing, str(path))
    return yaml.safe_load(path.read_text())


def _finished(runner, job: dict) -> dict:
    deadline = time.monotonic() + 90
    while job["state"] == "PIPELINE_STATE_RUNNING" and time.monotonic() < deadline:
        time.sleep(0.2)
        job = call(runner, "GET", job["name"])[1]
    return job


def test_whole_double_runs_as_int_in_a_relative_state_dir_and_failure_names_the_task(
    failing_spec, tmp_path, monkeypatch
):
    from gemini_sft_kfp.emulator import Emulator

    monkeypatch.chdir(tmp_path)  # --state-dir .emulator, as the README shows
    body = {"pipelineSpec": failing_spec, "runtimeConfig": {"parameterValues": {"n": 3.0}}}
    with Emulator(run_pipelines=True, state_dir=".emulator", strict=True) as runner:
        status, bad, _ = call(
            runner,
            "POST",
            f"{PARENT}/pipelineJobs",
            {**body, "runtimeConfig": {"parameterValues": {"n": 2.5}}},
        )
        assert status == 400 and bad["error"]["status"] == "INVALID_ARGUMENT"
        status, job, _ = call(runner, "POST", f"{PARENT}/pipelineJobs", body)
        assert status == 200 and job["runtimeConfig"]["parameterValues"] == {"n": 3}
        job = _finished(runner, job)
    assert job["state"] == "PIPELINE_STATE_FAILED"
    assert "The failed tasks are: [refuse]" in job["error"]["message"]
    assert job["error"]["code"] == 9
    double, refuse = job["jobDetail"]["taskDetails"]
    assert (double["taskName"], double["state"]) == ("double", "SUCCEEDED")
    assert (refuse["taskName"], refuse["state"]) == ("refuse", "FAILED")
    assert refuse["error"]["message"] == "ValueError: n=6 is not welcome"  # 3 was an int
    log = Path(refuse["execution"]["metadata"]["emulator_log"])
    assert log.is_absolute() and "n=6 is not welcome" in log.read_text()
    json_format.Parse(orjson.dumps(job), aiplatform_v1.PipelineJob.pb()())


def test_schedule_refuses_a_fractional_int_at_create(emu, failing_spec):
    pipeline_job = {"pipelineSpec": failing_spec, "runtimeConfig": {"parameterValues": {"n": 0.5}}}
    body = {
        "displayName": "nightly",
        "cron": "0 3 * * *",
        "maxConcurrentRunCount": 1,
        "createPipelineJobRequest": {"parent": PARENT, "pipelineJob": pipeline_job},
    }
    status, answer, _ = call(emu, "POST", f"{PARENT}/schedules", body)
    assert status == 400 and "not an integer" in answer["error"]["message"]
    pipeline_job["runtimeConfig"]["parameterValues"]["n"] = 4.0
    status, schedule, _ = call(emu, "POST", f"{PARENT}/schedules", body)
    assert status == 200
    stored = schedule["createPipelineJobRequest"]["pipelineJob"]["runtimeConfig"]
    assert stored["parameterValues"] == {"n": 4}
