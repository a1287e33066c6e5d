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
