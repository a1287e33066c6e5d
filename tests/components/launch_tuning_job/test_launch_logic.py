"""Never two jobs for one task: resume, find by label, look again after an ambiguous create."""

from __future__ import annotations

import httpx
import orjson
import pytest
from gemini_sft_kfp.components.launch_tuning_job.executor import (
    IDEMPOTENCY_LABEL,
    launch,
)
from gemini_sft_kfp.components.launch_tuning_job.executor import (
    run as launch_tuning_job,
)
from gemini_sft_kfp.components.launch_tuning_job.request import build_request
from google.genai import errors

from gemini_sft_kfp.core import gcp_resources
from gemini_sft_kfp.core.errors import UserError
from tests.support.job_fakes import PARENT, FakeClient, api_error

pytestmark = pytest.mark.usefixtures("no_retry_sleep")

LOCATION = "us-central1"


@pytest.fixture
def client():
    return FakeClient()


def request(**kwargs):
    return build_request(location=LOCATION, training_dataset_uri="gs://b/t.jsonl", **kwargs)


def run(client, path=None, label="task-1"):
    return launch(
        client,
        request(),
        location=LOCATION,
        label_value=label,
        gcp_resources_path=path,
        sleep=lambda s: None,
    )


def test_creates_once_labels_and_records_the_job(client, tmp_path):
    path = str(tmp_path / "gcp_resources")
    name = run(client, path)
    assert list(client.tunings.jobs) == [name]
    assert client.tunings.jobs[name].labels[IDEMPOTENCY_LABEL] == "task-1"
    assert gcp_resources.read(path, "TuningJob") == name
    uri = gcp_resources.resource_uri(name, LOCATION)
    assert uri.endswith(f"/v1/{name}")


def test_restart_resumes_the_recorded_job(client, tmp_path):
    path = str(tmp_path / "gcp_resources")
    first = run(client, path)
    client.tunings.calls.clear()
    assert run(client, path, label="another-label") == first
    assert "create" not in client.tunings.calls
    assert len(client.tunings.jobs) == 1


def test_retry_without_record_finds_job_by_label(client):
    first = run(client)
    assert run(client) == first
    assert len(client.tunings.jobs) == 1


def test_failed_job_is_replaced_but_cancelled_job_is_respected(client):
    failed = run(client)
    client.tunings.jobs[failed].state = "JOB_STATE_FAILED"
    second = run(client)
    assert second != failed
    client.tunings.jobs[second].state = "JOB_STATE_CANCELLED"
    assert run(client) == second


@pytest.mark.parametrize(
    "error",
    [
        api_error(503),
        api_error(500),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("reset"),
    ],
)
def test_ambiguous_create_that_did_create_is_not_repeated(client, error):
    client.tunings.create_then_fail = [error]
    name = run(client)
    assert len(client.tunings.jobs) == 1
    assert client.tunings.calls.count("create") == 1
    assert name in client.tunings.jobs


def test_rejected_creates_are_retried_after_looking(client):
    client.tunings.faults["create"] = [api_error(503), api_error(429)]
    client.tunings.faults["list"] = [api_error(503)]  # lists retry by themselves
    run(client)
    assert len(client.tunings.jobs) == 1
    calls = client.tunings.calls
    assert calls.count("create") == 3
    # every create after the first is preceded by a look-up
    for i, call in enumerate(calls):
        if call == "create" and i > calls.index("create"):
            assert calls[i - 1] == "list"


def test_bad_request_is_a_user_error_and_not_retried(client):
    client.tunings.faults["create"] = [api_error(400, "Row: 0. Missing required 'contents' field.")]
    with pytest.raises(UserError, match="Missing required 'contents'"):
        run(client)
    assert client.tunings.calls.count("create") == 1


def test_gives_up_after_bounded_attempts(client):
    client.tunings.faults["create"] = [api_error(503)] * 10
    with pytest.raises(errors.ServerError, match="503"):  # the service's last answer
        run(client)
    assert client.tunings.calls.count("create") == 5
    assert client.tunings.jobs == {}


def test_service_account_goes_in_the_request_body(client):
    launch_tuning_job(
        "p",
        LOCATION,
        client=client,
        training_dataset_uri="gs://b/t.jsonl",
        service_account="sa@p.iam.gserviceaccount.com",
        idempotency_key="k",
        check_data=False,
    )
    http_options = client.tunings.last_config.http_options
    assert http_options.extra_body == {"serviceAccount": "sa@p.iam.gserviceaccount.com"}


def test_adapter_size_refused_before_any_call(client):
    with pytest.raises(UserError):
        launch_tuning_job(
            "p",
            LOCATION,
            client=client,
            training_dataset_uri="gs://b/t.jsonl",
            base_model="gemini-2.5-pro",
            adapter_size="16",
        )
    assert client.tunings.calls == []


def test_recorded_job_that_vanished_falls_back_to_label_then_create(client, tmp_path):
    path = str(tmp_path / "gcp_resources")
    gcp_resources.write(path, "TuningJob", f"{PARENT}/tuningJobs/999", LOCATION)
    name = run(client, path)
    assert name.endswith("/tuningJobs/1")
    assert gcp_resources.read(path, "TuningJob") == name


def test_rejected_label_filter_falls_back_to_a_full_scan(client):
    first = run(client)
    client.tunings.faults["list"] = [api_error(400, "Unsupported filter")]
    assert run(client) == first
    assert len(client.tunings.jobs) == 1


def test_unexpected_failure_after_create_returns_the_created_job(client):
    client.tunings.create_then_fail = [ValueError("response could not be parsed")]
    name = run(client)
    assert list(client.tunings.jobs) == [name]


def test_unexpected_failure_without_a_job_is_raised_not_retried(client):
    client.tunings.faults["create"] = [ValueError("bug")]
    with pytest.raises(ValueError, match="bug"):
        run(client)
    assert client.tunings.calls.count("create") == 1


def test_gcp_resources_names_the_regional_https_uri(client, tmp_path, monkeypatch):
    monkeypatch.delenv("VERTEX_AI_EMULATOR_HOST", raising=False)
    path = tmp_path / "gcp_resources"
    name = run(client, str(path))
    resource = orjson.loads(path.read_bytes())["resources"][0]
    assert resource == {
        "resourceType": "TuningJob",
        "resourceUri": f"https://us-central1-aiplatform.googleapis.com/v1/{name}",
    }
