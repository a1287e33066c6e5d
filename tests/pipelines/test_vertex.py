"""pipelines.vertex: the PipelineJob is checked before any call; waiting polls to the end."""

from __future__ import annotations

import types

import pytest
from gemini_sft_kfp.pipelines import vertex

from gemini_sft_kfp.core.errors import UserError


class FakeJob:
    """A PipelineJob whose ``state`` walks through ``states``; None raises a 503 once."""

    def __init__(self, states: list[str | None]) -> None:
        self.states = states
        self.reads = 0

    @property
    def state(self):
        self.reads += 1
        name = self.states.pop(0)
        if name is None:
            error = ConnectionError("dropped")
            raise error
        return types.SimpleNamespace(name=name)


@pytest.mark.usefixtures("no_retry_sleep")
def test_wait_polls_with_backoff_through_transient_errors(monkeypatch):
    sleeps: list[float] = []
    monkeypatch.setattr("time.sleep", sleeps.append)
    job = FakeJob(
        [
            "PIPELINE_STATE_PENDING",
            None,
            "PIPELINE_STATE_RUNNING",
            "PIPELINE_STATE_RUNNING",
            "PIPELINE_STATE_FAILED",
        ]
    )
    assert vertex.wait_for_pipeline_job(job, initial=2.0, maximum=3.0) == "PIPELINE_STATE_FAILED"
    assert job.reads == 5 and sleeps == [2.0, 3.0, 3.0]


def test_a_pipeline_root_that_is_not_gs_is_refused_before_any_call(emu):
    run = vertex.CloudRun(
        pipeline="sft",
        project="local-project",
        location="us-central1",
        pipeline_root="/tmp/root",
        arguments={},
    )
    with pytest.raises(UserError, match="gs://") as caught:
        vertex.submit(run)
    assert caught.value.field == "pipeline-root"
    assert not [r for r in emu.requests() if r["method"].startswith("pipelineJobs")]


def test_a_wrong_parameter_is_refused_before_any_call():
    with pytest.raises(UserError, match="training_data|bucket"):
        vertex.cloud_arguments("sft", {"project": "p", "location": "l"}, [])
