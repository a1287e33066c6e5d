"""Runs Google's samples in this process, one after another, exactly as their authors
call them; prints one JSON result per sample. Started by test_samples.py in a fresh
interpreter whose environment alone points the Google libraries at the emulator.

The one liberty taken: ``time.sleep`` is capped at ``SLEEP_CAP_SECONDS`` (the tuning
samples poll every 60 s; the emulator's jobs take seconds). Harness steps (``kind``
"harness") prepare what a sample takes as input, with the same public SDK.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import inspect
import io
import json
import os
import runpy
import sys
import time
import traceback

SLEEP_CAP_SECONDS = 0.25
_real_sleep = time.sleep
time.sleep = lambda seconds: _real_sleep(min(seconds, SLEEP_CAP_SECONDS))


def _load(path: str):
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _harness(action: str, results: dict) -> str:
    from google import genai
    from google.genai.types import CreateTuningJobConfig, TuningDataset

    client = genai.Client()
    if action == "start_job":  # a job still running, for the cancel sample
        job = client.tunings.tune(
            base_model="gemini-2.5-flash",
            training_dataset=TuningDataset(
                gcs_uri="gs://cloud-samples-data/ai-platform/generative_ai/gemini/text/sft_train_data.jsonl"
            ),
            config=CreateTuningJobConfig(tuned_model_display_name="to cancel"),
        )
        return job.name
    if action == "start_preference_job":  # a preference job still running, to cancel
        job = client.tunings.tune(
            base_model="gemini-3.5-flash",
            training_dataset=TuningDataset(
                gcs_uri="gs://mybucket/preference_tuning/data/train_data.jsonl"
            ),
            config=CreateTuningJobConfig(
                tuned_model_display_name="preference job to cancel", method="PREFERENCE_TUNING"
            ),
        )
        return job.name
    if action.startswith("tuned_model_of:"):
        return client.tunings.get(name=results[action.split(":", 1)[1]]).tuned_model.model
    if action.startswith("job_state:"):
        return client.tunings.get(name=results[action.split(":", 1)[1]]).state.value
    raise ValueError(action)


def run(step: dict, results: dict) -> dict:
    args = [a.format(**results) if isinstance(a, str) else a for a in step.get("args", [])]
    out = io.StringIO()
    outcome = {"id": step["id"], "ok": True, "result": None, "error": None}
    try:
        with contextlib.redirect_stdout(out):
            if step.get("kind") == "harness":
                value = _harness(step["action"].format(**results), results)
            elif step["call"] == "__main__":
                runpy.run_path(step["file"], run_name="__main__")
                value = None
            else:
                value = getattr(_load(step["file"]), step["call"])(*args)
                if inspect.iscoroutine(value):
                    value = asyncio.run(value)
    except BaseException as exc:  # report every failure, keep running the others
        outcome.update(ok=False, error=f"{type(exc).__name__}: {exc}")
        outcome["traceback"] = traceback.format_exc()[-4000:]
        value = None
    outcome["stdout"] = out.getvalue()
    outcome["result"] = value if isinstance(value, str | int | float | bool | None) else repr(value)
    results[step["id"]] = outcome["result"]
    return outcome


def main() -> None:
    plan = json.loads(sys.argv[1])
    results: dict = {}
    for step in plan:
        if step.get("cwd"):
            os.chdir(step["cwd"])
        print(json.dumps(run(step, results)), flush=True)


if __name__ == "__main__":
    main()
