"""The service answers with the project *number*; users and pipelines write the project
*id*. Every component runs here on a project whose number (derived by the emulator,
nowhere hard-coded) differs from its id, and again with the number as input: any
component that compared a name it built from the id with a name the service returned
would miss its own job, model or endpoint here and fail the chain."""

from __future__ import annotations

import pytest
from gemini_sft_kfp.components.delete_model.executor import run as delete_model
from gemini_sft_kfp.components.finalize_run.executor import find_active_jobs
from gemini_sft_kfp.components.get_champion.executor import run as get_champion
from gemini_sft_kfp.components.launch_tuning_job.executor import run as launch_tuning_job
from gemini_sft_kfp.components.register_model.executor import run as register_model
from gemini_sft_kfp.components.upload_dataset.executor import run as upload_dataset
from gemini_sft_kfp.components.wait_for_tuning_job.executor import run as wait_for_tuning_job
from gemini_sft_kfp.emulator.common.projects import derived_number

from gemini_sft_kfp.core.clients import genai_client, storage_client
from gemini_sft_kfp.core.registry import Registry
from tests.support.job_helpers import DATA, LOCATION

pytestmark = pytest.mark.usefixtures("no_retry_sleep")

PROJECT_ID = "acme-tuning"
NUMBER = derived_number(PROJECT_ID)
SERVED = f"projects/{NUMBER}/locations/{LOCATION}/"


@pytest.mark.parametrize("project", [PROJECT_ID, NUMBER], ids=["by-id", "by-number"])
def test_the_whole_chain_works_when_names_come_back_with_the_number(emu, tmp_path, project):
    storage_client(project).create_bucket("acme-data")
    train = upload_dataset(
        project, source_uri=str(DATA / "train.jsonl"), bucket="acme-data", file_name="t.jsonl"
    ).uri
    resources = str(tmp_path / "gcp_resources")
    launch = {"pipeline_job_id": "run-7", "task_name": "launch-tuning-job"}
    job = launch_tuning_job(
        project,
        LOCATION,
        training_dataset_uri=train,
        epochs=2,
        gcp_resources_path=resources,
        **launch,
    )
    assert job.startswith(SERVED)
    # a retried launch finds its own job (names compared across id and number forms)
    again = launch_tuning_job(
        project,
        LOCATION,
        training_dataset_uri=train,
        epochs=2,
        gcp_resources_path=resources,
        **launch,
    )
    assert again == job
    result = wait_for_tuning_job(
        project, LOCATION, job, poll_initial_seconds=0.05, poll_max_seconds=0.2
    )
    assert result.tuned_model.startswith(SERVED) and result.tuned_endpoint.startswith(SERVED)

    registry = Registry(project, LOCATION)
    registered = register_model(registry, result.tuned_model)
    assert "champion" in registered.version.aliases
    champion = get_champion(registry, result.tuned_model.partition("@")[0])
    assert champion.found and champion.model == result.tuned_model
    assert champion.endpoint == result.tuned_endpoint  # its own tuning endpoint, recognised

    client = genai_client(project, LOCATION)
    label = next(iter(client.tunings.get(name=job).labels.items()))
    assert find_active_jobs(client, label) == []  # finished: nothing to cancel

    deleted = delete_model(registry, result.tuned_model, force=True)
    assert deleted.deleted and not deleted.already_gone
    assert deleted.versions == [result.tuned_model]
