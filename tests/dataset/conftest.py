"""Fixtures of the dataset tests."""

from __future__ import annotations

import orjson
import pytest

from gemini_sft_kfp.core import models


@pytest.fixture
def tiny_model(tmp_path, monkeypatch):
    """A model-table entry with tiny caps, proving limits come from the table."""
    table = {
        "models": [
            {
                "id": "tiny-model",
                "family": "tiny",
                "max_example_tokens": 50,
                "adapter_sizes": [1],
                "max_validation_examples": 3,
                "max_training_examples_text": 20,
                "max_training_examples_multimodal": 5,
                "max_file_bytes": 4000,
                "tokenizer": "gemma3",
                "thinking": False,
                "supported": True,
            }
        ]
    }
    path = tmp_path / "table.json"
    path.write_bytes(orjson.dumps(table))
    monkeypatch.setenv("GEMINI_SFT_MODEL_TABLE", str(path))
    models.model_table.cache_clear()
    yield "tiny-model"
    models.model_table.cache_clear()
