"""--method batch against the emulator: same answers as online, one job per model, resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import orjson
import pytest
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT

from gemini_sft_kfp.core.clients import storage_client
from gemini_sft_kfp.core.errors import CloudJobError, UserError
from gemini_sft_kfp.evaluation.batch import (
    AUTO_BATCH_MIN_EXAMPLES,
    resolve_method,
)
from gemini_sft_kfp.evaluation.evaluation import EvalConfig, evaluate
from gemini_sft_kfp.evaluation.runner import Settings
from tests.support import REPO
from tests.support.eval_helpers import tuned_endpoint

DATA = REPO / "examples" / "data"
CREATE = "batchPredictionJobs.create"


@pytest.fixture
def endpoint(emu) -> str:
    emu.service.tuning_seconds = 0.3  # batch jobs run min(tuning_seconds, 5) s
    endpoint = tuned_endpoint(str(DATA / "train.jsonl"))
    storage_client(DEFAULT_PROJECT).create_bucket("eval-staging")
    return endpoint


def config(endpoint: str, **overrides) -> EvalConfig:
    settings = {
        "baseline": "gemini-2.5-flash",
        "staging_uri": "gs://eval-staging/run-1",
        "batch_poll_seconds": 0.05,
        **overrides,
    }
    return EvalConfig(eval_data=str(DATA / "eval.jsonl"), endpoint=endpoint, **settings)


def test_batch_gives_the_online_answers_in_order_and_resumes_its_jobs(emu, endpoint, tmp_path):
    online = evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, config(endpoint))
    resources = str(tmp_path / "gcp_resources")
    batch_config = config(endpoint, method="batch", gcp_resources_path=resources)
    batch = evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, batch_config)

    assert [r["status"] for r in emu.requests() if r["method"] == CREATE] == [200, 200]
    for run in ("tuned", "baseline"):
        online_texts = [p.text for p in getattr(online, run).predictions]
        batch_texts = [p.text for p in getattr(batch, run).predictions]
        assert batch_texts == online_texts  # same simulation, read back in input order
    assert batch.tuned.metrics["exact_match"] == online.tuned.metrics["exact_match"]
    assert batch.gate.passed == online.gate.passed
    summary = batch.summary()
    assert summary["method"] == "batch" and summary["simulated"] is True
    assert summary["tuned"]["requests"] == 120
    assert "latency_p50_ms" in online.tuned.metrics
    assert "latency_p50_ms" not in summary["tuned"]  # not timed: absent, not "0 ms"
    with open(resources, "rb") as f:
        recorded = orjson.loads(f.read())["resources"]
    assert [r["resourceType"] for r in recorded] == ["BatchPredictionJob"] * 2

    # a retried task finds its jobs (recorded, or by label) instead of starting more
    again = evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, batch_config)
    assert [r["status"] for r in emu.requests() if r["method"] == CREATE] == [200, 200]
    assert [p.text for p in again.tuned.predictions] == [p.text for p in batch.tuned.predictions]


def test_batch_settings_are_checked_before_anything_starts(emu):
    endpoint = f"projects/{DEFAULT_PROJECT}/locations/{DEFAULT_LOCATION}/endpoints/1"
    for overrides, field in [
        ({"method": "batch", "staging_uri": ""}, "staging_uri"),
        ({"method": "sometimes"}, "method"),
    ]:
        with pytest.raises(UserError) as info:
            evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, config(endpoint, **overrides))
        assert info.value.field == field
    assert not emu.requests()
    assert resolve_method("auto", AUTO_BATCH_MIN_EXAMPLES) == "batch"
    assert resolve_method("auto", AUTO_BATCH_MIN_EXAMPLES - 1) == "online"


def test_an_unwritable_staging_prefix_is_a_user_error_and_starts_no_job(emu, endpoint):
    bad = config(endpoint, method="batch", staging_uri="gs://no-such-bucket/x")
    with pytest.raises(UserError) as info:
        evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, bad)
    assert info.value.field == "staging_uri"
    assert not [r for r in emu.requests() if r["method"] == CREATE]


def test_a_failed_batch_job_fails_the_evaluation(emu, endpoint):
    emu.add_fault(method="batchPredictionJobs.get", status=500, times=1)  # a poll blip
    emu.service.tuning_seconds = 1.0
    bad = config(endpoint, method="batch")
    storage = storage_client(DEFAULT_PROJECT)

    def drop_input_when_created(*_):  # the job then cannot read its input: FAILED
        for blob in storage.list_blobs("eval-staging"):
            blob.delete()

    import gemini_sft_kfp.jobs.batch as batch

    original = batch.BatchPredictionJobs.create
    with pytest.MonkeyPatch.context() as mp:

        def create(self, client, **kwargs):
            job = original(self, client, **kwargs)
            drop_input_when_created()
            return job

        mp.setattr(batch.BatchPredictionJobs, "create", create)
        with pytest.raises(CloudJobError, match="ended JOB_STATE_FAILED"):
            evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, bad)


def sigterm_mid_wait(emu, endpoint: str, *options: str) -> tuple[int, str]:
    """`gemini-sft evaluate --method batch` stopped by SIGTERM once it polls a job
    (held running by the emulator): its exit code and output."""
    emu.service.batch_seconds = 600.0
    code = "import sys; from gemini_sft_kfp.cli import main; sys.argv[0] = 'gemini-sft'; main()"
    args = ["evaluate", "--endpoint", endpoint, "--data", str(DATA / "eval.jsonl")]
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args, "--method", "batch", "--json", *options],
        env={**os.environ, **emu.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not [
        r for r in emu.requests() if r["method"] == "batchPredictionJobs.get"
    ]:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    return process.returncode, output


def test_sigterm_during_the_wait_cancels_the_batch_job(emu, endpoint):
    code, output = sigterm_mid_wait(emu, endpoint, "--staging", "gs://eval-staging/sigterm")
    assert code == 128 + signal.SIGTERM, output
    assert "cancelling batch prediction job" in output
    [job] = emu.service.store.table("batchPredictionJobs").values()
    assert job["state"] == "JOB_STATE_CANCELLED"
    assert [r["status"] for r in emu.requests() if r["method"] == CREATE] == [200]


def test_output_lines_are_matched_by_key_else_by_their_echoed_contents():
    from gemini_sft_kfp.evaluation import batch
    from gemini_sft_kfp.evaluation.eval_data import EvalExample
    from gemini_sft_kfp.evaluation.runner import Prediction

    def turns(text):
        return [{"role": "user", "parts": [{"text": text}]}]

    examples = [EvalExample(i, i + 1, turns(t), "r") for i, t in enumerate("aab")]
    by_contents = batch._ContentsIndex(examples)
    predictions = [Prediction(index=i) for i in range(3)]

    def answer(text):
        return {"candidates": [{"content": {"parts": [{"text": text}]}}]}

    # no "key": matched by the request's contents, repeated prompts in input order
    for text, reply in (("b", "B"), ("a", "A1"), ("a", "A2"), ("z", "?")):
        echoed = [{"parts": [{"text": text}], "role": "user"}]  # keys in another order
        line = {"request": {"contents": echoed}, "response": answer(reply)}
        batch._fill(predictions, line, by_contents)
    assert [p.text for p in predictions] == ["A1", "A2", "B"]

    keyed = [Prediction(index=i) for i in range(3)]
    batch._fill(keyed, {"key": "1", "response": answer("x"), "status": ""})
    batch._fill(keyed, {"response": answer("lost")})  # neither key nor request: dropped
    batch._fill(keyed, {"key": "2", "status": "INVALID_ARGUMENT: bad"})
    assert [p.text for p in keyed] == [None, "x", None]
    assert keyed[2].error == "batch prediction failed: INVALID_ARGUMENT: bad"
    assert keyed[0].attempts == 0  # stays unanswered: reported as "no result"


def test_global_location_keeps_auto_online_and_refuses_batch_before_any_call():
    from gemini_sft_kfp.evaluation.batch import resolve_method
    from gemini_sft_kfp.evaluation.evaluation import EvalConfig, evaluate

    assert resolve_method("auto", 50_000, "us-central1") == "batch"
    assert resolve_method("auto", 50_000, "global") == "online"
    from gemini_sft_kfp.evaluation.evaluation import check_options

    check_options(EvalConfig("e.jsonl", "e", method="auto"), has_baseline=False, location="global")
    with pytest.raises(UserError, match="staging"):  # elsewhere auto may go batch: needs one
        check_options(EvalConfig("e.jsonl", "e", method="auto"), has_baseline=False)
    config = EvalConfig(
        eval_data="/nonexistent/eval.jsonl",  # refused before the file is even read
        endpoint="projects/p/locations/global/endpoints/1",
        method="batch",
        staging_uri="gs://b/eval",
    )
    with pytest.raises(UserError, match="not available in location 'global'") as refused:
        evaluate("p", "global", config, client=object())
    assert refused.value.field == "method"


def test_a_second_evaluation_under_the_same_staging_prefix_reads_only_its_own_answers(
    emu, endpoint, tmp_path
):
    """The job's output directory, not every file under the shared prefix: a later run
    (another eval set, a scheduled pipeline with a fixed eval_staging_uri) must not be
    scored on an earlier run's answers."""
    from tests.support.eval_helpers import example, write_jsonl

    first = config(endpoint, baseline="", method="batch", staging_uri="gs://eval-staging/fixed")
    evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, first)
    other = write_jsonl(
        tmp_path / "other.jsonl",
        [example(f"my parcel {i} never arrived, where is it?", "queue: shipping") for i in range(4)]
        + [example("please cancel my subscription", "queue: cancellations")],
    )
    second = EvalConfig(**{**first.__dict__, "eval_data": other})
    batch = evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, second)
    online = evaluate(
        DEFAULT_PROJECT, DEFAULT_LOCATION, EvalConfig(**{**second.__dict__, "method": "online"})
    )
    assert [p.text for p in batch.tuned.predictions] == [p.text for p in online.tuned.predictions]
    assert batch.tuned.metrics["exact_match"] == online.tuned.metrics["exact_match"]


def test_a_bad_baseline_is_refused_before_the_tuned_batch_job_starts(emu, endpoint):
    for baseline in (
        "gemini-9-flash",
        f"projects/{DEFAULT_PROJECT}/locations/us-central1/endpoints/42",
    ):
        with pytest.raises(UserError) as info:
            evaluate(
                DEFAULT_PROJECT,
                DEFAULT_LOCATION,
                config(endpoint, baseline=baseline, method="batch"),
            )
        assert info.value.field == "baseline", info.value
    assert not [r for r in emu.requests() if r["method"] == CREATE]


def test_outside_a_pipeline_a_rerun_reuses_a_finished_job_but_not_a_cancelled_one(emu, endpoint):
    """The same evaluation run again (no pipeline: the label comes from what the job
    computes) is answered by the job it already paid for; after a Ctrl-C cancelled that
    job, running it again starts a fresh one rather than failing on the cancelled one."""
    from gemini_sft_kfp.core.clients import genai_client

    same = config(endpoint, baseline="", method="batch", staging_uri="gs://eval-staging/again")
    first = evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, same)
    again = evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, same)
    assert [p.text for p in again.tuned.predictions] == [p.text for p in first.tuned.predictions]
    assert len([r for r in emu.requests() if r["method"] == CREATE]) == 1

    emu.service.batch_seconds = 600.0
    other = config(endpoint, baseline="", method="batch", staging_uri="gs://eval-staging/stop")
    client = genai_client(DEFAULT_PROJECT, DEFAULT_LOCATION)
    import gemini_sft_kfp.jobs.batch as batch

    original = batch.BatchPredictionJobs.create
    with pytest.MonkeyPatch.context() as mp:  # the job is cancelled as a Ctrl-C would

        def create_then_cancel(self, api, **kwargs):
            job = original(self, api, **kwargs)
            client.batches.cancel(name=job.name)
            return job

        mp.setattr(batch.BatchPredictionJobs, "create", create_then_cancel)
        with pytest.raises(CloudJobError, match="CANCELLED"):
            evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, other)
    emu.service.batch_seconds = 0.3
    rerun = evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, other)
    assert [p.text for p in rerun.tuned.predictions] == [p.text for p in first.tuned.predictions]
    assert len([r for r in emu.requests() if r["method"] == CREATE]) == 3


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"settings": Settings(temperature=-1.0)}, "temperature"),
        ({"settings": Settings(temperature=float("nan"))}, "temperature"),
        ({"settings": Settings(temperature=3.0)}, "temperature"),
        ({"max_examples": -3}, "max_examples"),
    ],
)
def test_settings_the_service_would_refuse_are_refused_before_any_job(emu, overrides, field):
    """A batch job of a temperature Vertex refuses is a paid job of failed lines; a
    negative --max-examples silently evaluated one example."""
    endpoint = f"projects/{DEFAULT_PROJECT}/locations/{DEFAULT_LOCATION}/endpoints/1"
    with pytest.raises(UserError) as info:
        evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, config(endpoint, method="batch", **overrides))
    assert info.value.field == field
    assert not emu.requests()


def test_a_partially_succeeded_job_gives_its_answers_and_records_the_missing_ones(
    emu, endpoint, monkeypatch
):
    """JOB_STATE_PARTIALLY_SUCCEEDED ("some results may be missing due to errors"): the
    paid answers are read and scored, the missing ones are recorded errors; failing the
    whole evaluation would throw the job away."""
    from gemini_sft_kfp.emulator.serving import batch_prediction

    original = batch_prediction._answers

    def lose_the_first_line(service, job, data):
        output, ok, failed = original(service, job, data)
        job["_sim"]["partial"] = True
        return b"\n".join(output.splitlines()[1:]) + b"\n", ok - 1, failed

    original_finish = batch_prediction._finish

    def finish(service, job, done_at):
        original_finish(service, job, done_at)
        if job["_sim"].get("partial") and job["state"] == "JOB_STATE_SUCCEEDED":
            job["state"] = "JOB_STATE_PARTIALLY_SUCCEEDED"

    monkeypatch.setattr(batch_prediction, "_answers", lose_the_first_line)
    monkeypatch.setattr(batch_prediction, "_finish", finish)
    result = evaluate(
        DEFAULT_PROJECT, DEFAULT_LOCATION, config(endpoint, baseline="", method="batch")
    )
    predictions = result.tuned.predictions
    assert predictions[0].error == "no result for this example in the batch output"
    assert all(p.ok for p in predictions[1:]) and result.tuned.errors == 1


def test_both_models_jobs_run_side_by_side_and_a_stop_cancels_both(emu, endpoint):
    """The baseline's job is created before the tuned one is waited for (they run at
    once: a batch job may queue for many minutes), and SIGTERM while waiting for the
    tuned one cancels the baseline's too: no job of a stopped task runs on."""
    options = ["--baseline", "gemini-2.5-flash", "--staging", "gs://eval-staging/both"]
    code, output = sigterm_mid_wait(emu, endpoint, *options)

    assert code == 128 + signal.SIGTERM, output
    methods = [r["method"] for r in emu.requests()]
    assert methods.count(CREATE) == 2
    assert max(i for i, m in enumerate(methods) if m == CREATE) < methods.index(
        "batchPredictionJobs.get"
    ), "both jobs must be started before the first is waited for"
    jobs = emu.service.store.table("batchPredictionJobs").values()
    assert sorted(job["state"] for job in jobs) == ["JOB_STATE_CANCELLED"] * 2
