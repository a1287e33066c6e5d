"""Helpers shared by the pipeline tests (imported as a top-level module by pytest)."""

from __future__ import annotations

import pytest

from gemini_sft_kfp import components
from tests.support import REPO

SAMPLE = REPO / "examples" / "data"

# `submit` / `schedule` against the emulator's Vertex AI Pipelines: every required option
CLOUD_OPTIONS = (
    "--project",
    "local-project",
    "--location",
    "us-central1",
    "--pipeline-root",
    "gs://runs-bucket/root",
    "--train",
    "gs://data/train.jsonl",
    "--eval",
    "gs://data/eval.jsonl",
    "--bucket",
    "data",
)


def all_components_present() -> bool:
    try:
        for name in components.COMPONENT_NAMES:
            components.load(name)
    except ImportError:
        return False
    return True


needs_components = pytest.mark.skipif(
    not all_components_present(), reason="a component of the pipeline is not in the tree yet"
)


def model_version(name: str):
    """The registry's view of ``projects/../models/ID@V`` (None when deleted)."""
    from gemini_sft_kfp.core.registry import Registry

    registry = Registry("local-project", "us-central1")
    return registry.get(registry.ref(name))
