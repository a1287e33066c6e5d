"""``location=global`` works wherever a region does (Google's REST example tunes there)."""

from __future__ import annotations

import pytest
from gemini_sft_kfp.components.get_champion.executor import run as get_champion
from gemini_sft_kfp.components.launch_tuning_job.executor import run as launch_tuning_job
from gemini_sft_kfp.components.register_model.executor import run as register_model
from gemini_sft_kfp.components.upload_dataset.executor import run as upload_dataset
from gemini_sft_kfp.components.wait_for_tuning_job.executor import run as wait_for_tuning_job

from gemini_sft_kfp.core import gcp_resources
from gemini_sft_kfp.core.registry import Registry
from tests.support.job_helpers import BUCKET, DATA, PROJECT, make_bucket

pytestmark = pytest.mark.usefixtures("no_retry_sleep")


def test_the_real_global_endpoint_has_no_region_prefix(monkeypatch):
    monkeypatch.delenv("VERTEX_AI_EMULATOR_HOST", raising=False)
    uri = gcp_resources.resource_uri("projects/p/locations/global/tuningJobs/1", "global")
    assert uri == "https://aiplatform.googleapis.com/v1/projects/p/locations/global/tuningJobs/1"


def test_launch_wait_register_and_champion_in_global(emu, tmp_path):
    make_bucket()
    train = upload_dataset(
        PROJECT, source_uri=str(DATA / "train.jsonl"), bucket=BUCKET, file_name="t.jsonl"
    ).uri
    resources = str(tmp_path / "gcp_resources")
    name = launch_tuning_job(
        PROJECT,
        "global",
        training_dataset_uri=train,
        epochs=1,
        gcp_resources_path=resources,
        pipeline_job_id="run-global",
        task_name="launch",
    )
    assert "/locations/global/tuningJobs/" in name
    assert gcp_resources.read(resources, "TuningJob") == name
    result = wait_for_tuning_job(PROJECT, "global", name, poll_initial_seconds=0.05)
    assert "/locations/global/models/" in result.tuned_model
    registry = Registry(PROJECT, "global")
    register_model(registry, result.tuned_model, lineage="global-task")
    champion = get_champion(registry, "", lineage="global-task")
    assert champion.found and champion.model == result.tuned_model
