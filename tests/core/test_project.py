"""core.project: one resolver (explicit > env > emulator > default) and one default region."""

from __future__ import annotations

import re

import pytest

from gemini_sft_kfp.core import project
from gemini_sft_kfp.core.errors import UserError
from tests.support import REPO


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION", "VERTEX_AI_EMULATOR_HOST"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_explicit_values_win_over_the_environment(clean_env):
    clean_env.setenv("GOOGLE_CLOUD_PROJECT", "env-project")
    clean_env.setenv("GOOGLE_CLOUD_LOCATION", "europe-west4")
    clean_env.setenv("VERTEX_AI_EMULATOR_HOST", "127.0.0.1:1")
    assert project.resolve_project_location("p", "asia-east1") == ("p", "asia-east1")


def test_environment_wins_over_the_emulator_and_the_default(clean_env):
    clean_env.setenv("GOOGLE_CLOUD_PROJECT", "env-project")
    clean_env.setenv("GOOGLE_CLOUD_LOCATION", "europe-west4")
    clean_env.setenv("VERTEX_AI_EMULATOR_HOST", "127.0.0.1:1")
    assert project.resolve_project_location() == ("env-project", "europe-west4")


def test_against_the_emulator_its_project_is_the_default(clean_env):
    clean_env.setenv("VERTEX_AI_EMULATOR_HOST", "127.0.0.1:1")
    assert project.resolve_project_location() == ("local-project", project.DEFAULT_LOCATION)


def test_a_project_is_never_guessed_for_the_real_service(clean_env):
    with pytest.raises(UserError, match="--project is required") as caught:
        project.resolve_project(None)
    assert "GOOGLE_CLOUD_PROJECT" in str(caught.value) and caught.value.field == "project"
    assert project.resolve_location(None) == "us-central1" == project.DEFAULT_LOCATION


def test_the_emulator_and_the_pipelines_share_the_one_default():
    from gemini_sft_kfp.pipelines import continuous_tuning_pipeline, sft_pipeline

    from gemini_sft_kfp import emulator

    assert (emulator.DEFAULT_PROJECT, emulator.DEFAULT_LOCATION) == (
        project.EMULATOR_PROJECT,
        project.DEFAULT_LOCATION,
    )
    for pipeline in (sft_pipeline, continuous_tuning_pipeline):
        location = pipeline.component_spec.inputs["location"]
        assert location.default == project.DEFAULT_LOCATION


def test_the_default_region_is_written_once():
    """A second "us-central1" in product code is a second default that can drift."""
    literal = re.compile(r"[\"']us-central1[\"']")
    places = [
        path.relative_to(REPO).as_posix()
        for folder in ("gemini_sft_kfp", "components", "pipelines", "emulator")
        for path in (REPO / folder).rglob("*.py")
        if literal.search(path.read_text(encoding="utf-8"))
    ]
    assert places == ["gemini_sft_kfp/core/defaults.py"]
