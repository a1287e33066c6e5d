"""Every default the product writes, in one module (GCPC's ``_placeholders`` idea).

Components, pipelines, the CLI and the emulator refer to these names; no other module
spells a default base model, region, alias or folder. ``tests/test_defaults.py`` reads
every component and pipeline signature and the compiled YAML and fails on any other
value.
"""

from __future__ import annotations

from gemini_sft_kfp.core.models import recommended_model

BASE_MODEL = recommended_model()
"""The model tuned when none is named: ``models.json``'s ``recommended`` entry."""

LOCATION = "us-central1"
"""The Vertex AI region when none is named (Gemini tuning is offered there)."""

CHAMPION_ALIAS = "champion"
"""The version alias of the model in service: the baseline a new model must beat."""

DEFAULT_LINEAGE = "gemini-sft"
"""The lineage of models tuned without a lineage or a display name."""

DATASET_PREFIX = "gemini-sft/datasets"
"""Object prefix of the uploaded (content-addressed) datasets."""

EVAL_STAGING_FOLDER = "gemini-sft/eval"
"""Folder under the bucket for batch evaluation's files, one sub-folder per run."""
