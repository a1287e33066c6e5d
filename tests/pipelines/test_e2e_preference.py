"""Preference tuning after SFT, end to end on the local runner against the emulator.

The issue's "done when": ``gemini-sft run --pipeline preference`` ends PROMOTED on the
sample data after ``gemini-sft run``, and is rejected when the preferred and
dispreferred completions are swapped; the job the emulator received carries
``preferenceOptimizationSpec`` with the given ``beta`` and continues the SFT champion.
(The tuning and the judge are simulations of the emulator's.)
"""

from __future__ import annotations

import orjson
import pytest

from tests.support.job_helpers import raw_job
from tests.support.pipeline_helpers import SAMPLE, model_version, needs_components

pytestmark = [pytest.mark.e2e, needs_components]


def _swapped(source, target) -> str:
    lines = []
    for line in source.read_bytes().splitlines():
        example = orjson.loads(line)
        for completion in example["completions"]:
            completion["score"] = 1 - completion["score"]
        lines.append(orjson.dumps(example))
    target.write_bytes(b"\n".join(lines) + b"\n")
    return str(target)


def test_preference_after_sft_is_promoted_and_a_swapped_file_is_rejected(emu, local_run, tmp_path):
    code, sft, _ = local_run()
    assert code == 0 and sft["verdict"] == "promoted", sft

    code, good, _ = local_run("--pipeline", "preference", "--beta", "0.2")
    assert code == 0 and good["verdict"] == "promoted", good
    job = raw_job(emu, good["tuning_job"])
    spec = job["preferenceOptimizationSpec"]
    assert "supervisedTuningSpec" not in job
    assert spec["hyperParameters"]["beta"] == pytest.approx(0.2)
    # Google's advice: the preference job continues the SFT model (preTunedModel)
    assert (
        job["preTunedModel"]["tunedModelName"].split("@")[0]
        == (sft["registered_model"].split("@")[0])
    )
    # the gate's default metric is the pairwise judge's win rate against the start
    assert good["gate"]["score"] == pytest.approx(good["tuned_metrics"]["judge_win_rate"])
    assert good["tuned_metrics"]["judge_win_rate"] > 0.5
    assert (
        good["tuned_metrics"]["preference_accuracy"]
        > good["baseline_metrics"]["preference_accuracy"]
    )
    champion = model_version(good["registered_model"])
    assert champion is not None and "champion" in champion.aliases

    swapped = _swapped(SAMPLE / "preference_train.jsonl", tmp_path / "swapped.jsonl")
    code, bad, _ = local_run(
        "--pipeline", "preference", "--train", swapped,
        "--eval", str(SAMPLE / "preference_eval.jsonl"),
    )  # fmt: skip
    assert code == 0 and bad["verdict"] == "rejected-deleted", bad
    assert bad["tuned_metrics"]["judge_win_rate"] < 0.5
    assert model_version(good["registered_model"]) is not None  # the champion stays


def test_sft_pipeline_refuses_a_preference_file_before_anything_is_billed(emu, local_run):
    code, summary, _ = local_run("--train", str(SAMPLE / "preference_train.jsonl"))
    assert code != 0
    assert not summary or not summary.get("tuning_job")
