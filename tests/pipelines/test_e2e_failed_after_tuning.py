"""A run whose evaluation fails after tuning succeeded, end to end: the exit handler
(``finalize_run``) leaves the tuned model in a stated place and the summary says which.

The tuned endpoint refuses every call (403, an emulator fault), so ``evaluate-model``
fails with a setup error once the job has SUCCEEDED and its model exists.
"""

from __future__ import annotations

import orjson
import pytest
from gemini_sft_kfp.components.finalize_run.executor import KEPT_AFTER_FAILURE, OUTCOME_LABEL

from tests.support.pipeline_helpers import model_version, needs_components

pytestmark = [pytest.mark.e2e, needs_components]


def _state(emu) -> dict:
    return orjson.loads(emu.dump_state())


@pytest.mark.parametrize("keep_on_fail", [False, True], ids=["delete-on-fail", "keep-on-fail"])
def test_evaluation_failing_after_tuning_settles_the_tuned_model(emu, local_run, keep_on_fail):
    emu.add_fault("endpoints.generateContent", status=403, rate=1.0)
    code, summary, out = local_run(
        "--keep-on-fail" if keep_on_fail else "--delete-on-fail",
        "--param",
        "select_best_checkpoint=false",  # the first call to the tuned endpoint: evaluate's
    )
    assert code == 1, out
    assert summary["succeeded"] is False and summary["verdict"] == "failed"
    assert summary["failed_tasks"] == ["evaluate-model"]
    assert summary["tasks"]["wait-for-tuning-job"] == "SUCCESS"
    assert "cannot be called" in summary["error"][0], summary["error"]  # one clear line
    assert not any("Traceback" in line for line in summary["error"])
    assert summary["tasks"]["finalize-run"] == "SUCCESS"

    model = summary["tuned_model"]
    assert model
    version = model_version(model)
    state = _state(emu)
    if keep_on_fail:
        assert version is not None and version.labels[OUTCOME_LABEL] == KEPT_AFTER_FAILURE
        assert "champion" not in version.aliases  # kept, not promoted
        assert summary["cleanup"] == [
            f"tuned model {model} kept (keep_on_fail), labelled "
            f"{OUTCOME_LABEL}={KEPT_AFTER_FAILURE}: the run failed after tuning"
        ]
    else:
        assert version is None
        assert summary["cleanup"] == [
            f"tuned model {model} deleted: the run failed after tuning (keep_on_fail=false)"
        ]
        assert state["endpoints"] == {}, "the tuned model's endpoints went with it"
    jobs = list(state["tuningJobs"].values())
    assert [j["state"] for j in jobs] == ["JOB_STATE_SUCCEEDED"]  # one job, none left running
