"""A run that fails after tuning leaves its tuned model in a stated place (issue 14,
section 1): deleted, or kept with a label saying why (``keep_on_fail``), and the report
says which. Before, an evaluation failure left the model neither registered nor deleted."""

from __future__ import annotations

import pytest
from gemini_sft_kfp.components.finalize_run import executor as finalize
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT

from gemini_sft_kfp.core.registry import Registry, find_version
from tests.support.model_helpers import tune_for_run

RUN_KEY = "run-failed-after-tuning"


@pytest.mark.parametrize("keep_on_fail", [False, True])
def test_a_failed_run_settles_its_tuned_model(emu, tmp_path, keep_on_fail):
    model = tune_for_run(RUN_KEY)
    report = tmp_path / "report.md"
    finalize.run(
        project=DEFAULT_PROJECT,
        location=DEFAULT_LOCATION,
        state="FAILED",
        error_message="Task evaluate-model failed.",
        run_key=RUN_KEY,
        keep_on_fail=keep_on_fail,
        report_path=str(report),
    )
    version = find_version(Registry(DEFAULT_PROJECT, DEFAULT_LOCATION), model)
    text = report.read_text()
    if keep_on_fail:
        assert version is not None
        assert version.labels[finalize.OUTCOME_LABEL] == finalize.KEPT_AFTER_FAILURE
        assert f"tuned model `{model}` kept" in text
    else:
        assert version is None
        assert f"tuned model `{model}` deleted" in text


def test_a_registered_model_and_a_succeeded_run_are_left_alone(emu, tmp_path):
    model = tune_for_run(RUN_KEY)
    registry = Registry(DEFAULT_PROJECT, DEFAULT_LOCATION)
    finalize.run(
        project=DEFAULT_PROJECT, location=DEFAULT_LOCATION, state="SUCCEEDED", run_key=RUN_KEY
    )
    assert find_version(registry, model) is not None
    registry.merge_aliases(model, ["champion"])
    finalize.run(
        project=DEFAULT_PROJECT, location=DEFAULT_LOCATION, state="FAILED", run_key=RUN_KEY
    )
    assert find_version(registry, model) is not None  # registered: a stated place
