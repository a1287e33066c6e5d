"""The shared job lifecycle, driven through a second, made-up job kind.

A kind other than tuning jobs (shaped like a Vertex batch prediction job) proves that
the lifecycle needs nothing but the small adapter: resume, find by label, create once,
poll, cancel on SIGTERM and on request.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import signal
import threading
import time
from types import SimpleNamespace

import pytest

from gemini_sft_kfp.core import gcp_resources, retry
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.jobs.identity import IDEMPOTENCY_LABEL, idempotency_value
from gemini_sft_kfp.jobs.runner import ORPHAN_LOOKUP_INTERVAL, CloudJob, WaitTimeoutError
from gemini_sft_kfp.jobs.stop import ExecutionContext
from tests.support.job_fakes import Clock, api_error

pytestmark = pytest.mark.usefixtures("no_retry_sleep")

PARENT = "projects/p/locations/us-central1"


class BatchJobs:
    """A JobKind adapter over an in-memory service; ``faults[call]`` raise first."""

    resource_type = "BatchPredictionJob"
    noun = "batch prediction job"
    field = "batch_prediction_job"

    def __init__(self) -> None:
        self.jobs: dict[str, SimpleNamespace] = {}
        self.calls: list[str] = []
        self.faults: dict[str, list[BaseException]] = {}
        self.on_get = None
        self._ids = itertools.count(1)

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if self.faults.get(name):
            raise self.faults[name].pop(0)

    def create(self, client, labels, state="JOB_STATE_PENDING"):
        self._call("create")
        job_id = next(self._ids)
        job = SimpleNamespace(
            name=f"{PARENT}/batchPredictionJobs/{job_id}",
            state=state,
            labels=dict(labels),
            create_time=f"2026-01-01T00:00:{job_id:02d}Z",
        )
        self.jobs[job.name] = job
        return job

    def get(self, client, name):
        self._call("get")
        if name not in self.jobs:
            raise api_error(404)
        if self.on_get:
            self.on_get(self.jobs[name])
        return SimpleNamespace(**vars(self.jobs[name]))

    def list(self, client, filter_text):
        self._call("list")
        return list(self.jobs.values())  # ignores the filter: the client filters again

    def cancel(self, client, name):
        self._call("cancel")
        self.jobs[name].state = "JOB_STATE_CANCELLED"

    def rejection(self, exc):
        return UserError("refused") if getattr(exc, "code", None) == 400 else None

    def detail(self, job):
        return ""


@pytest.fixture
def kind():
    return BatchJobs()


def job_of(kind, path=None, clock=None):
    clock = clock or Clock()
    return CloudJob(
        kind,
        lambda: "client",
        location="us-central1",
        gcp_resources_path=path,
        sleep=clock.sleep,
        clock=clock,
    )


def test_start_creates_once_labels_and_records_with_the_kinds_resource_type(kind, tmp_path):
    path = str(tmp_path / "gcp_resources")
    name = job_of(kind, path).start(kind.create, "task-1", labels={"team": "a"})
    assert kind.jobs[name].labels == {"team": "a", IDEMPOTENCY_LABEL: "task-1"}
    assert gcp_resources.read(path, "BatchPredictionJob") == name
    assert gcp_resources.read(path, "TuningJob") is None


def test_restart_resumes_the_recorded_job_without_listing(kind, tmp_path):
    path = str(tmp_path / "gcp_resources")
    first = job_of(kind, path).start(kind.create, "task-1")
    kind.calls.clear()
    assert job_of(kind, path).start(kind.create, "other-label") == first
    assert kind.calls == ["get"]


def test_label_lookup_filters_client_side_and_takes_the_newest_reusable(kind):
    kind.create(None, {IDEMPOTENCY_LABEL: "someone-else"}, state="JOB_STATE_RUNNING")
    older = kind.create(None, {IDEMPOTENCY_LABEL: "task-1"}, state="JOB_STATE_RUNNING")
    newer = kind.create(None, {IDEMPOTENCY_LABEL: "task-1"}, state="JOB_STATE_SUCCEEDED")
    kind.create(None, {IDEMPOTENCY_LABEL: "task-1"}, state="JOB_STATE_FAILED")
    assert job_of(kind).find("task-1").name == newer.name != older.name
    assert job_of(kind).find("task-2") is None


def test_preflight_runs_only_before_a_create(kind):
    checked = []
    job_of(kind).start(kind.create, "task-1", preflight=lambda: checked.append(1))
    job_of(kind).start(kind.create, "task-1", preflight=lambda: checked.append(2))
    assert checked == [1]


def test_ambiguous_create_is_followed_by_a_lookup_not_a_blind_retry(kind):
    kind.faults["create"] = [api_error(503), api_error(503)]
    clock = Clock()
    job_of(kind, clock=clock).start(kind.create, "task-1")
    assert kind.calls == ["list", "create", "list", "create", "list", "create"]
    assert len(kind.jobs) == 1
    assert len(clock.sleeps) == 2 and all(s <= 0.05 for s in clock.sleeps)


def test_rejected_create_is_the_kinds_user_error_without_a_lookup(kind):
    kind.faults["create"] = [api_error(400)]
    with pytest.raises(UserError, match="refused"):
        job_of(kind).start(kind.create, "task-1")
    assert kind.calls == ["list", "create"]


def test_wait_polls_with_backoff_until_the_job_ends(kind):
    job = kind.create(None, {}, state="JOB_STATE_RUNNING")
    polls = itertools.count()

    def advance(j):
        if next(polls) == 4:
            j.state = "JOB_STATE_SUCCEEDED"

    kind.on_get = advance
    clock = Clock()
    done = job_of(kind, clock=clock).wait(job.name, poll_initial_seconds=2, poll_max_seconds=4)
    assert done.state == "JOB_STATE_SUCCEEDED"
    assert clock.sleeps == [2, 3, 4, 4]


def test_wait_rides_out_transient_errors(kind):
    job = kind.create(None, {}, state="JOB_STATE_SUCCEEDED")
    kind.faults["get"] = [api_error(503), api_error(429)]
    assert job_of(kind).wait(job.name).state == "JOB_STATE_SUCCEEDED"
    assert kind.calls.count("get") == 3


def test_unreadable_job_names_the_kinds_field(kind):
    with pytest.raises(UserError, match="cannot read batch prediction job") as info:
        job_of(kind).wait(f"{PARENT}/batchPredictionJobs/404")
    assert info.value.field == "batch_prediction_job" and info.value.code == "404"


def test_timeout_keeps_or_cancels_the_job_as_asked(kind):
    job = kind.create(None, {}, state="JOB_STATE_RUNNING")
    with pytest.raises(WaitTimeoutError, match="batch prediction job .* NOT cancelled"):
        job_of(kind).wait(job.name, timeout_seconds=30)
    assert "cancel" not in kind.calls
    with pytest.raises(WaitTimeoutError, match="cancelled it"):
        job_of(kind).wait(job.name, timeout_seconds=30, cancel_on_timeout=True)
    assert kind.jobs[job.name].state == "JOB_STATE_CANCELLED"


def test_sigterm_during_wait_cancels_with_retry_and_exits_128_plus_signal(kind):
    job = kind.create(None, {}, state="JOB_STATE_RUNNING")
    kind.faults["cancel"] = [api_error(503)]
    clock = Clock()
    clock.sleep = lambda seconds: os.kill(os.getpid(), signal.SIGTERM)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as info:
        job_of(kind, clock=clock).wait(job.name)
    assert info.value.code == 128 + signal.SIGTERM
    assert kind.calls.count("cancel") == 2
    assert kind.jobs[job.name].state == "JOB_STATE_CANCELLED"
    assert signal.getsignal(signal.SIGTERM) == before


def test_execution_context_exits_even_when_the_cancel_fails():
    def broken():
        raise RuntimeError("service down")

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as info, ExecutionContext(on_cancel=broken):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # interrupted at once: the handler raises
    assert info.value.code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == before


def test_execution_context_leaves_signals_alone_off_the_main_thread():
    seen = []

    def body():
        with ExecutionContext(on_cancel=lambda: seen.append("cancel")):
            seen.append(signal.getsignal(signal.SIGTERM))

    before = signal.getsignal(signal.SIGTERM)
    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen == [before]


def test_cancel_uses_a_fresh_client(kind):
    job = kind.create(None, {}, state="JOB_STATE_RUNNING")
    made = []

    def factory():
        made.append(object())
        return made[-1]

    runner = CloudJob(kind, factory, location="us-central1")
    assert runner.is_active(job.name)
    runner.cancel(job.name)
    assert len(made) == 2 and not runner.is_active(job.name)


def test_looking_for_a_job_cut_short_waits_with_the_injected_sleep(kind):
    """The job of a create cut short shows up a moment later: the looks in between wait
    through the runner's own ``sleep`` (the platform's grace period is counted on it)."""
    clock = Clock()
    runner = job_of(kind, clock=clock)
    value = idempotency_value(idempotency_key="cut-short")
    lists = 0
    real_list = kind.list

    def list_appearing_on_the_third_look(client, filter_text):
        nonlocal lists
        lists += 1
        if lists == 3:
            kind.create(None, {IDEMPOTENCY_LABEL: value}, state="JOB_STATE_RUNNING")
        return real_list(client, filter_text)

    kind.list = list_appearing_on_the_third_look
    [name] = runner.cancel_task_jobs(value, [], wait_for_job=True)
    assert kind.jobs[name].state == "JOB_STATE_CANCELLED"
    assert clock.sleeps == [ORPHAN_LOOKUP_INTERVAL] * 2


def test_idempotency_value():
    kwargs = {"pipeline_job_id": "run-1", "task_name": "launch-tuning-job", "fingerprint": "f"}
    value = idempotency_value(**kwargs)
    assert value == idempotency_value(**kwargs)  # a retry of the task finds its job
    assert value != idempotency_value(**{**kwargs, "fingerprint": "g"})  # loop iterations
    assert value != idempotency_value(**{**kwargs, "pipeline_job_id": "run-2"})
    assert (len(value) <= 63 and value.islower()) or value.isdigit()
    assert idempotency_value(idempotency_key="nightly-2024-01-01") == "nightly-2024-01-01"
    hashed = idempotency_value(idempotency_key="Nightly Run #1")
    assert len(hashed) == 40 and hashed.isalnum()
    # the label rule of core.labels: lowercase ASCII only ("²" is a digit to str.isdigit)
    for key in ("run²", "nächtlich"):
        assert (
            idempotency_value(idempotency_key=key) == hashlib.sha256(key.encode()).hexdigest()[:40]
        )
    unresolved = {
        "pipeline_job_id": "{{$.pipeline_job_uuid}}",
        "task_name": "{{$.pipeline_task_name}}",
    }
    assert idempotency_value(**unresolved).startswith("adhoc-")
    assert idempotency_value(**unresolved) != idempotency_value(**unresolved)


# --- quota ---------------------------------------------------------------------------


@pytest.fixture
def real_quota_backoff(monkeypatch):
    """The shipped long backoff (no_retry_sleep shortens it); the fake clock makes it free."""
    monkeypatch.setattr("gemini_sft_kfp.jobs.runner.QUOTA_BACKOFF_SECONDS", (30.0, 600.0))


def test_quota_refusals_are_waited_out_with_long_backoff_and_logged(
    kind, real_quota_backoff, caplog
):
    clock = Clock()
    kind.faults["create"] = [api_error(429, "Quota exceeded: concurrent tuning jobs")] * 6
    with caplog.at_level("WARNING"):
        job = job_of(kind, clock=clock)
        name = job.start(kind.create, "task-1", quota_timeout_seconds=6 * 3600)
    assert name in kind.jobs and len(kind.jobs) == 1
    assert kind.calls.count("create") == 7  # six refusals use up none of the 5 attempts
    assert len(clock.sleeps) == 6 and 15 <= clock.sleeps[0] <= 30
    assert max(clock.sleeps) <= 600 and sum(clock.sleeps) > 600  # long, growing waits
    assert "no quota to create the batch prediction job (429 RESOURCE_EXHAUSTED" in caplog.text
    assert "nothing was created" in caplog.text and "quota timeout left" in caplog.text
    assert job.quota_wait_seconds == pytest.approx(sum(clock.sleeps))


def test_quota_timeout_gives_up_with_a_clear_error_and_creates_nothing(kind, real_quota_backoff):
    from gemini_sft_kfp.jobs.runner import QuotaTimeoutError

    clock = Clock()
    kind.faults["create"] = [api_error(429, "Quota exceeded")] * 100
    with pytest.raises(QuotaTimeoutError, match="quota_timeout_seconds=3600") as info:
        job_of(kind, clock=clock).start(kind.create, "task-1", quota_timeout_seconds=3600)
    assert info.value.code == 429 and kind.jobs == {}
    assert clock.now == pytest.approx(3600)  # waited exactly up to the timeout


def test_quota_timeout_zero_keeps_429_an_ordinary_transient_error(kind):
    kind.faults["create"] = [api_error(429)] * 10
    with pytest.raises(Exception, match="429"):
        job_of(kind).start(kind.create, "task-1", quota_timeout_seconds=0)
    assert kind.calls.count("create") == 5


class DetailedJobs(BatchJobs):
    """A kind whose jobs report a detailed state, as google-genai's tuning jobs do."""

    def detail(self, job):
        return getattr(job, "detail", "")


def test_wait_logs_the_detailed_state_and_times_each(caplog):
    kind, clock = DetailedJobs(), Clock()
    job = job_of(kind, clock=clock)
    name = job.start(kind.create, "task-1")
    script = iter(
        [("JOB_STATE_QUEUED", "WAITING_FOR_QUOTA")] * 3
        + [("JOB_STATE_PENDING", "WAITING_FOR_CAPACITY")] * 2
        + [("JOB_STATE_RUNNING", "TUNING")] * 2
        + [("JOB_STATE_SUCCEEDED", "")]
    )

    def advance(record):
        record.state, record.detail = next(script)

    kind.on_get = advance
    with caplog.at_level("INFO"):
        done = job.wait(name, poll_initial_seconds=10, poll_max_seconds=10)
    assert done.state == "JOB_STATE_SUCCEEDED"
    assert "JOB_STATE_QUEUED (WAITING_FOR_QUOTA: held until a concurrent-job quota" in caplog.text
    assert "JOB_STATE_PENDING (WAITING_FOR_CAPACITY: held until the service has capacity" in (
        caplog.text
    )
    assert job.detail_seconds == {
        "WAITING_FOR_QUOTA": 30.0,
        "WAITING_FOR_CAPACITY": 20.0,
        "TUNING": 20.0,
    }


def test_ctrl_c_during_wait_cancels_the_job_and_exits_130(kind):
    """`gemini-sft evaluate --method batch` stopped at the terminal: no job runs on."""
    job = kind.create(None, {}, state="JOB_STATE_RUNNING")
    clock = Clock()
    clock.sleep = lambda seconds: os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(SystemExit) as info:
        job_of(kind, clock=clock).wait(job.name)
    assert info.value.code == 128 + signal.SIGINT
    assert kind.jobs[job.name].state == "JOB_STATE_CANCELLED"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_callers_own_ctrl_c_handler_is_left_alone():
    def own(signum, frame):
        raise RuntimeError("the caller's")

    previous = signal.signal(signal.SIGINT, own)
    try:
        with pytest.raises(RuntimeError, match="the caller's"), ExecutionContext(list):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
    finally:
        signal.signal(signal.SIGINT, previous)


def test_wait_on_an_endpoint_that_refuses_every_poll_fails_instead_of_polling_for_days(kind):
    """An orphaned wait polling a stopped emulator: fails with the reason, job kept."""
    job = kind.create(None, {}, state="JOB_STATE_RUNNING")
    kind.faults["get"] = [ConnectionRefusedError(111, "Connection refused")] * 1000
    with pytest.raises(retry.Unreachable, match=r"Connection refused \(tried \d+ times"):
        job_of(kind).wait(job.name, timeout_seconds=172800)
    assert kind.calls.count("get") < 20 and "cancel" not in kind.calls


def test_a_local_runs_key_replaces_only_the_pipeline_run_id(monkeypatch):
    """The shipped pipelines key their launch by the run id: a local run (and its rerun)
    puts its own key there. A user's own key (one per ParallelFor iteration) stays."""
    from gemini_sft_kfp.jobs.identity import RESUME_KEY_ENV, resumed_run_key

    assert resumed_run_key("run-7", "run-7") == "run-7"  # not a local run
    monkeypatch.setenv(RESUME_KEY_ENV, "local-abc")
    assert resumed_run_key("run-7", "run-7") == "local-abc"
    assert resumed_run_key("my-key-3", "run-7") == "my-key-3"
    assert resumed_run_key("", "run-7") == ""
    assert resumed_run_key("run-7") == "local-abc"  # the exit handler's run key
