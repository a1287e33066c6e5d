"""The model table is the one source of limits: lookups, aliases, adapter checks."""

import json

import pytest

from gemini_sft_kfp.core import models
from gemini_sft_kfp.core.errors import UserError


def test_publisher_path_and_alias_resolve_to_table_entry():
    spec = models.get_model_spec("publishers/google/models/gemini-2.0-flash")
    assert spec.id == "gemini-2.0-flash-001"
    assert spec.max_example_tokens == 131072


@pytest.mark.parametrize("value", [16, "16", "ADAPTER_SIZE_SIXTEEN", "adapter_size_sixteen"])
def test_adapter_size_forms_map_to_enum(value):
    assert models.check_adapter_size("gemini-2.5-flash", value) == "ADAPTER_SIZE_SIXTEEN"


def test_adapter_size_not_allowed_for_model_is_user_error():
    with pytest.raises(UserError, match="allowed: 1, 2, 4, 8") as info:
        models.check_adapter_size("gemini-2.5-pro", 16)
    assert info.value.field == "adapter_size"


def test_retired_model_has_clear_message():
    with pytest.raises(UserError, match="no longer supported"):
        models.get_model_spec("gemini-1.5-pro")


@pytest.mark.parametrize(
    ("retired", "replacement"),
    [
        ("gemini-1.5-pro-002", "gemini-2.5-pro"),
        ("gemini-1.5-flash-002", "gemini-3.5-flash"),
        ("gemini-1.0-pro-002", "gemini-3.5-flash"),
        ("gemini-1.0-pro", "gemini-3.5-flash"),
    ],
)
def test_every_retired_seed_model_names_its_replacement(retired, replacement):
    with pytest.raises(UserError) as info:
        models.get_model_spec(retired)
    message = info.value.message
    assert "retired" in message and f"use {replacement} instead" in message
    assert replacement in models.known_model_ids()


CURRENT_SUPERVISED_TUNING = [
    "gemini-3.5-flash",
    "gemini-3.5-flash-lite",
    "gemini-3.1-flash-lite",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-2.0-flash-001",
    "gemini-2.0-flash-lite-001",
]


def test_table_ships_every_model_the_current_docs_list():
    assert sorted(CURRENT_SUPERVISED_TUNING) == models.known_model_ids()


@pytest.mark.parametrize(
    "model", ["gemini-3.5-flash", "gemini-3.5-flash-lite", "gemini-3.1-flash-lite"]
)
def test_new_models_inherit_2_5_flash_limits_marked_unconfirmed(model):
    spec, flash = models.get_model_spec(model), models.get_model_spec("gemini-2.5-flash")
    assert spec.inherits_from == "gemini-2.5-flash"
    for limit in (
        "max_example_tokens",
        "adapter_sizes",
        "max_validation_examples",
        "max_file_bytes",
    ):
        assert getattr(spec, limit) == getattr(flash, limit)
        assert not spec.is_confirmed(limit)
    assert flash.unconfirmed == ()


def test_unconfirmed_adapter_size_warns_instead_of_refusing(tmp_path, monkeypatch, caplog):
    # an operator table where the inherited sizes stop at 8: 16 is still sent, with a warning
    extra = tmp_path / "extra.json"
    entry = {**_entry("gemini-3.5-flash"), "adapter_sizes": [1, 2, 4, 8]}
    extra.write_text(json.dumps({"models": [entry]}))
    monkeypatch.setenv("GEMINI_SFT_MODEL_TABLE", str(extra))
    models.model_table.cache_clear()
    try:
        with caplog.at_level("WARNING"):
            assert models.check_adapter_size("gemini-3.5-flash", 16) == "ADAPTER_SIZE_SIXTEEN"
        assert "not published for gemini-3.5-flash" in caplog.text
        with pytest.raises(UserError, match="allowed: 1, 2, 4, 8"):
            models.check_adapter_size("gemini-2.5-pro", 16)  # a published limit still refuses
    finally:
        monkeypatch.delenv("GEMINI_SFT_MODEL_TABLE")
        models.model_table.cache_clear()


def _entry(model_id: str) -> dict:
    table = json.loads(models._TABLE_PATH.read_text())
    return next(m for m in table["models"] if m["id"] == model_id)


def test_defaults_of_pipelines_components_and_cli_follow_the_recommendation():
    import inspect

    from gemini_sft_kfp.components import launch_tuning_job, validate_dataset
    from gemini_sft_kfp.pipelines import continuous_tuning_pipeline, sft_pipeline

    from gemini_sft_kfp.cli import dataset

    recommended = models.recommended_model()
    assert recommended == "gemini-3.5-flash" and recommended in models.known_model_ids()
    for pipeline in (sft_pipeline, continuous_tuning_pipeline):
        assert pipeline.component_spec.inputs["base_model"].default == recommended
    assert launch_tuning_job.component_spec.inputs["base_model"].default == recommended
    assert validate_dataset.component_spec.inputs["model"].default == recommended
    assert inspect.signature(dataset.validate).parameters["model"].default.default == (recommended)


def test_unknown_model_lists_supported():
    with pytest.raises(UserError, match="gemini-2.5-flash"):
        models.get_model_spec("gemini-9-ultra")


def test_operator_override_table_adds_a_family(tmp_path, monkeypatch):
    extra = tmp_path / "extra.json"
    entry = {
        "id": "gemini-3.0-flash",
        "family": "gemini-3.0-flash",
        "max_example_tokens": 262144,
        "adapter_sizes": [1, 2, 4],
        "max_validation_examples": 5000,
        "max_training_examples_text": 1000000,
        "max_training_examples_multimodal": 300000,
        "max_file_bytes": 1000000000,
        "tokenizer": "gemma3",
        "thinking": True,
        "supported": True,
    }
    extra.write_text(json.dumps({"models": [entry]}))
    monkeypatch.setenv("GEMINI_SFT_MODEL_TABLE", str(extra))
    models.model_table.cache_clear()
    try:
        assert models.get_model_spec("gemini-3.0-flash").max_example_tokens == 262144
        assert models.get_model_spec("gemini-2.5-flash").id == "gemini-2.5-flash"
    finally:
        monkeypatch.delenv("GEMINI_SFT_MODEL_TABLE")
        models.model_table.cache_clear()
