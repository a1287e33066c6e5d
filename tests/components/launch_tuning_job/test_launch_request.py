"""Inputs are checked and mapped to the API before any call: mistakes cost nothing."""

from __future__ import annotations

import pytest
from gemini_sft_kfp.components.launch_tuning_job.request import build_request

from gemini_sft_kfp.core.errors import UserError

TRAIN = "gs://bucket/data/abc/train.jsonl"
KEY = "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k"


def build(**kwargs):
    kwargs.setdefault("location", "us-central1")
    kwargs.setdefault("training_dataset_uri", TRAIN)
    return build_request(**kwargs)


def test_every_option_reaches_the_request(monkeypatch):
    monkeypatch.setenv(
        "VERTEX_AI_PIPELINES_RUN_LABELS", '{"vertex-ai-pipelines-run-billing-id": "123"}'
    )
    request = build(
        validation_dataset_uri="gs://bucket/v.jsonl",
        base_model="gemini-2.5-flash",
        epochs=3,
        adapter_size="ADAPTER_SIZE_SIXTEEN",
        learning_rate_multiplier=0.5,
        export_last_checkpoint_only=True,
        tuned_model_display_name="My Model",
        description="why",
        labels={"Team": "ML Ops", "cost.center": "A" * 80},
        kms_key_name=KEY,
        service_account="sa@p.iam.gserviceaccount.com",
    )
    assert request.base_model == "gemini-2.5-flash"
    assert request.training_dataset_uri == TRAIN
    assert request.service_account == "sa@p.iam.gserviceaccount.com"
    config = request.config
    assert config["validation_dataset"] == {"gcs_uri": "gs://bucket/v.jsonl"}
    assert config["epoch_count"] == 3
    assert config["adapter_size"] == "ADAPTER_SIZE_SIXTEEN"
    assert config["learning_rate_multiplier"] == 0.5
    assert config["export_last_checkpoint_only"] is True
    assert config["tuned_model_display_name"] == "My Model"
    assert config["description"] == "why"
    assert request.extra_body["encryptionSpec"] == {"kmsKeyName": KEY}
    labels = config["labels"]
    assert labels["vertex-ai-pipelines-run-billing-id"] == "123"
    assert labels["team"] == "ml-ops"
    assert labels["cost_center"] == "a" * 63


def test_defaults_leave_choices_to_the_service():
    request = build()
    assert request.config == {} and request.extra_body == {}
    assert request.base_model == "gemini-3.5-flash"  # the current recommendation


def test_adapter_size_not_offered_by_model_is_refused():
    with pytest.raises(UserError, match="allowed: 1, 2, 4, 8") as info:
        build(base_model="gemini-2.5-pro", adapter_size="16")
    assert info.value.field == "adapter_size"


def test_continuous_tuning_uses_pre_tuned_model_and_checkpoint():
    request = build(
        pre_tuned_model="projects/p/locations/us-central1/models/123@2", checkpoint_id="3"
    )
    assert request.base_model == "projects/p/locations/us-central1/models/123@2"
    assert request.config["pre_tuned_model_checkpoint_id"] == "3"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"training_dataset_uri": "/tmp/train.jsonl"}, "training_dataset_uri"),
        ({"validation_dataset_uri": "https://x/v.jsonl"}, "validation_dataset_uri"),
        ({"checkpoint_id": "2"}, "checkpoint_id"),
        ({"pre_tuned_model": "models/123"}, "pre_tuned_model"),
        ({"pre_tuned_model": "projects/p/locations/europe-west4/models/1"}, "pre_tuned_model"),
        ({"kms_key_name": "my-key"}, "kms_key_name"),
        ({"kms_key_name": KEY.replace("us-central1", "europe-west4")}, "kms_key_name"),
        ({"service_account": "not an email"}, "service_account"),
        ({"epochs": -1}, "epochs"),
        ({"learning_rate_multiplier": -0.1}, "learning_rate_multiplier"),
        ({"base_model": "gemini-9-ultra"}, "model"),
    ],
)
def test_mistakes_are_user_errors_naming_the_field(kwargs, field):
    with pytest.raises(UserError) as info:
        build(**kwargs)
    assert info.value.field == field


def test_fingerprint_depends_on_the_job_not_on_labels():
    a = build(epochs=2, labels={"x": "1"})
    b = build(epochs=2, labels={"x": "2"})
    c = build(epochs=3)
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != c.fingerprint()


# ---- the tuning method: a value that picks the request block and its checks ----------


def test_preference_method_sends_its_block_and_beta():
    request = build(method="preference", beta=0.25, epochs=2, adapter_size=4)
    assert request.config["method"] == "PREFERENCE_TUNING"
    assert request.config["beta"] == 0.25
    assert request.config["epoch_count"] == 2
    assert request.config["adapter_size"] == "ADAPTER_SIZE_FOUR"


def test_supervised_requests_are_unchanged_so_resumed_runs_find_their_jobs():
    assert build(method="supervised").config == build().config == {}
    assert build(method="Supervised").fingerprint() == build().fingerprint()
    assert build(method="preference").fingerprint() != build().fingerprint()
    assert (
        build(method="preference", beta=0.2).fingerprint()
        != build(method="preference", beta=0.1).fingerprint()
    )


def test_tuning_time_evaluation_is_for_supervised_tuning_only():
    config = {
        "metrics": [{"exactMatchSpec": {}}],
        "outputConfig": {"gcsDestination": {"outputUriPrefix": "gs://bucket/eval"}},
    }
    assert list(build(evaluation_config=config).extra_body) == ["supervisedTuningSpec"]
    with pytest.raises(UserError, match="not available for preference") as info:
        build(method="preference", evaluation_config=config)
    assert info.value.field == "evaluation_config"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "preference", "beta": 0.0}, "greater than 0"),
        ({"method": "preference", "beta": -0.1}, "greater than 0"),
        ({"method": "preference", "beta": float("nan")}, "finite"),
        ({"method": "preference", "beta": float("inf")}, "finite"),
        ({"method": "preference", "beta": "0.1"}, "finite"),
        ({"method": "dpo"}, "not a tuning method"),
        ({"method": "distillation"}, "not a tuning method"),
        ({"beta": 0.3}, "preference tuning only"),
    ],
)
def test_bad_method_or_beta_is_a_user_error(kwargs, message):
    field = "method" if "beta" not in kwargs else "beta"
    with pytest.raises(UserError, match=message) as info:
        build(**kwargs)
    assert info.value.field == field


def test_beta_outside_googles_suggested_range_is_a_warning(caplog):
    build(method="preference", beta=2.0)
    assert "outside Google's suggested range" in caplog.text


def test_check_method_is_the_same_check_for_a_pipelines_input_check():
    from gemini_sft_kfp.components.launch_tuning_job.request import check_method

    assert check_method("preference", 0.2).spec_key == "preferenceOptimizationSpec"
    assert check_method().spec_key == "supervisedTuningSpec"
    with pytest.raises(UserError, match="greater than 0"):
        check_method("preference", 0.0)
