"""pipelineJobs and schedules through aiplatform.PipelineJob (submit, create_schedule)."""

# no "from __future__ import annotations": KFP reads the component annotations

from pathlib import Path

import orjson
import pytest
from google.cloud import aiplatform_v1
from google.protobuf import json_format

from gemini_sft_kfp.core.clients import init_aiplatform
from tests.support.emu_helpers import PARENT, SERVED_PARENT, call


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> str:
    from kfp import compiler, dsl

    @dsl.component(base_image="python:3.11")
    def echo(text: str) -> str:
        return text

    @dsl.pipeline(name="tiny-pipeline")
    def tiny(text: str = "hi"):
        echo(text=text)

    path = tmp_path_factory.mktemp("pipeline") / "tiny.yaml"
    compiler.Compiler().compile(tiny, str(path))
    return str(path)


@pytest.fixture(scope="module")
def slow_template(tmp_path_factory) -> str:
    from kfp import compiler, dsl

    @dsl.component(base_image="python:3.11")
    def sleep(seconds: int):
        import time

        time.sleep(seconds)

    @dsl.pipeline(name="slow-pipeline")
    def slow(seconds: int = 60):
        sleep(seconds=seconds)

    path = tmp_path_factory.mktemp("pipeline") / "slow.yaml"
    compiler.Compiler().compile(slow, str(path))
    return str(path)


@pytest.fixture
def submitted(emu, template):
    init_aiplatform("local-project", "us-central1")
    from google.cloud import aiplatform

    job = aiplatform.PipelineJob(
        display_name="tiny",
        template_path=template,
        pipeline_root="gs://pipeline-root/runs",
        parameter_values={"text": "hello"},
        labels={"team": "ml"},
    )
    job.submit()
    return job


def test_submit_get_list_cancel(emu, submitted):
    from google.cloud import aiplatform

    assert submitted.resource_name.startswith(f"{SERVED_PARENT}/pipelineJobs/tiny-pipeline-")
    listed = aiplatform.PipelineJob.list(filter="labels.team=ml")
    assert [j.resource_name for j in listed] == [submitted.resource_name]
    submitted.cancel()
    again = aiplatform.PipelineJob.get(submitted.resource_name)
    assert again.state == aiplatform_v1.PipelineState.PIPELINE_STATE_CANCELLED
    body = call(emu, "GET", submitted.resource_name)[1]
    assert body["runtimeConfig"]["parameterValues"] == {"text": "hello"}
    json_format.Parse(orjson.dumps(body), aiplatform_v1.PipelineJob.pb()())
    listing = call(emu, "GET", f"{PARENT}/pipelineJobs")[1]
    json_format.Parse(orjson.dumps(listing), aiplatform_v1.ListPipelineJobsResponse.pb()())
    methods = [r["method"] for r in emu.requests()]
    assert methods[0] == "pipelineJobs.create" and "pipelineJobs.cancel" in methods


def test_create_schedule(emu, submitted):
    schedule = submitted.create_schedule(
        cron="0 3 * * *", max_concurrent_run_count=1, display_name="nightly"
    )
    body = call(emu, "GET", schedule.resource_name)[1]
    assert body["state"] == "ACTIVE" and body["cron"] == "0 3 * * *"
    json_format.Parse(orjson.dumps(body), aiplatform_v1.Schedule.pb()())
    schedule.pause()
    assert call(emu, "GET", schedule.resource_name)[1]["state"] == "PAUSED"
    listing = call(emu, "GET", f"{PARENT}/schedules")[1]
    json_format.Parse(orjson.dumps(listing), aiplatform_v1.ListSchedulesResponse.pb()())


def test_bad_schedule_and_duplicate_job_id(emu):
    status, _, _ = call(emu, "POST", f"{PARENT}/schedules", {"cron": "every day"})
    assert status == 400
    spec = {"pipelineSpec": {"pipelineInfo": {"name": "x"}}}
    assert call(emu, "POST", f"{PARENT}/pipelineJobs?pipelineJobId=run-1", spec)[0] == 200
    assert call(emu, "POST", f"{PARENT}/pipelineJobs?pipelineJobId=run-1", spec)[0] == 409


def test_submitted_job_runs_on_the_kfp_local_runner(template, tmp_path):
    import time

    import yaml
    from gemini_sft_kfp.emulator import Emulator

    spec = yaml.safe_load(Path(template).read_text())
    body = {
        "displayName": "tiny",
        "pipelineSpec": spec,
        "runtimeConfig": {"gcsOutputDirectory": "gs://r/x", "parameterValues": {"text": "yo"}},
    }
    with Emulator(run_pipelines=True, state_dir=tmp_path) as runner:
        status, job, _ = call(runner, "POST", f"{PARENT}/pipelineJobs", body)
        assert status == 200
        deadline = time.monotonic() + 60
        while job["state"] == "PIPELINE_STATE_RUNNING" and time.monotonic() < deadline:
            time.sleep(0.2)
            job = call(runner, "GET", job["name"])[1]
        log = next((tmp_path / "pipeline-runs").glob("*/run.log")).read_text()
        assert job["state"] == "PIPELINE_STATE_SUCCEEDED", (job.get("error"), log[-3000:])
        assert "yo" in log
        [task] = job["jobDetail"]["taskDetails"]
        assert (task["taskName"], task["state"]) == ("echo", "SUCCEEDED") and "error" not in task
        assert "yo" in Path(task["execution"]["metadata"]["emulator_log"]).read_text()
        json_format.Parse(orjson.dumps(job), aiplatform_v1.PipelineJob.pb()())
        body["runtimeConfig"]["parameterValues"] = {"text": 5}  # wrong type: refused at create
        status, bad, _ = call(runner, "POST", f"{PARENT}/pipelineJobs", body)
        assert status == 400 and "STRING" in bad["error"]["message"]


def test_cancel_stops_an_executing_run(slow_template, tmp_path):
    import time

    import yaml
    from gemini_sft_kfp.emulator import Emulator

    body = {"pipelineSpec": yaml.safe_load(Path(slow_template).read_text())}
    with Emulator(run_pipelines=True, state_dir=tmp_path) as runner:
        job = call(runner, "POST", f"{PARENT}/pipelineJobs", body)[1]
        executor = runner.service.pipeline_executor
        time.sleep(1.0)
        (process,) = executor._processes.values()
        assert call(runner, "POST", f"{job['name']}:cancel", {})[0] == 200
        assert process.wait(timeout=20) != 0  # the run was killed, not left behind
        time.sleep(0.2)
        assert call(runner, "GET", job["name"])[1]["state"] == "PIPELINE_STATE_CANCELLED"


def test_due_schedules_fire_runs_when_pipelines_execute(template, tmp_path):
    import time

    import yaml
    from gemini_sft_kfp.emulator import Emulator

    pipeline_job = {
        "displayName": "nightly-run",
        "pipelineSpec": yaml.safe_load(Path(template).read_text()),
        "runtimeConfig": {"parameterValues": {"text": "scheduled"}},
    }
    body = {
        "displayName": "nightly",
        "cron": "0 3 * * *",
        "maxConcurrentRunCount": 1,
        "maxRunCount": 1,
        "createPipelineJobRequest": {"parent": PARENT, "pipelineJob": pipeline_job},
    }
    with Emulator(run_pipelines=True, state_dir=tmp_path, strict=True) as runner:
        status, schedule, _ = call(runner, "POST", f"{PARENT}/schedules", body)
        assert status == 200 and schedule["nextRunTime"].endswith("03:00:00.000000Z")
        with runner.service.store.lock:  # make it due now instead of at 03:00
            stored = runner.service.store.table("schedules")[schedule["name"].rsplit("/", 1)[1]]
            stored["nextRunTime"] = "2020-01-01T00:00:00.000000Z"
        deadline = time.monotonic() + 60
        runs = []
        while not runs and time.monotonic() < deadline:
            time.sleep(0.2)
            runs = call(runner, "GET", f"{PARENT}/pipelineJobs")[1].get("pipelineJobs", [])
        (run,) = runs
        assert run["scheduleName"] == schedule["name"]
        while run["state"] == "PIPELINE_STATE_RUNNING" and time.monotonic() < deadline:
            time.sleep(0.2)
            run = call(runner, "GET", run["name"])[1]
        assert run["state"] == "PIPELINE_STATE_SUCCEEDED"
        fired = call(runner, "GET", schedule["name"])[1]
        assert fired["startedRunCount"] == "1" and fired["state"] == "COMPLETED"  # maxRunCount
        assert fired["lastScheduledRunResponse"]["runResponse"] == run["name"]
        assert "nextRunTime" not in fired  # COMPLETED: no next run, as Vertex shows it
        json_format.Parse(orjson.dumps(fired), aiplatform_v1.Schedule.pb()())
