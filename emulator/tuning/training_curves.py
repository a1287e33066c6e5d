"""Simulated training curves for a tuning job (emulator-only: Vertex keeps them in the
job's experiment). Labelled simulated: no model was trained, the curves are made up.

``GET /emulator/metrics/{tuning job name}`` ->
``{"simulated": true, "job": name, "state": ..., "metrics": {"/train_total_loss":
[{"step": 1, "value": 2.4}, ...], ...}}``; only steps reached so far are included.
"""

from __future__ import annotations

import math
import random
import time

from gemini_sft_kfp.emulator.common.api_errors import not_found
from gemini_sft_kfp.emulator.common.service import Service
from gemini_sft_kfp.emulator.tuning.preference_tuning import tuning_spec
from gemini_sft_kfp.emulator.tuning.tuning_jobs import advance_all

TRAIN_METRICS = (
    "/train_total_loss",
    "/train_fraction_of_correct_next_step_preds",
    "/train_num_predictions",
)
EVAL_METRICS = (
    "/eval_total_loss",
    "/eval_fraction_of_correct_next_step_preds",
    "/eval_num_predictions",
)


def _curve(rng: random.Random, steps: int, reached: int, start: float, end: float, noise: float):
    points = []
    for step in range(1, reached + 1):
        progress = step / max(steps, 1)
        value = end + (start - end) * math.exp(-4.0 * progress) + rng.uniform(-noise, noise)
        points.append({"step": step, "value": round(max(value, 0.0), 4)})
    return points


def simulated_metrics(service: Service, job_name: str) -> dict:
    advance_all(service)
    job_id = job_name.rstrip("/").rsplit("/", 1)[-1]
    with service.store.lock:
        job = service.store.table("tuningJobs").get(job_id)
        if job is None or not job["name"].endswith(job_name.split("/tuningJobs/")[-1]):
            raise not_found(f"TuningJob {job_name} not found.")
        sim = dict(job["_sim"])
        state = job["state"]
        has_validation = bool(tuning_spec(job).get("validationDatasetUri"))
        name = job["name"]
    stats = (sim.get("stats") or {}).get("supervisedTuningDataStats", {})
    steps = int(stats.get("tuningStepCount", 0))
    metrics: dict[str, list[dict]] = {}
    if steps and state not in ("JOB_STATE_QUEUED", "JOB_STATE_PENDING", "JOB_STATE_FAILED"):
        started = sim.get("dequeued", sim["created"])
        elapsed = (time.time() - started) / max(sim["tuning_seconds"], 1e-9)
        reached = steps if state == "JOB_STATE_SUCCEEDED" else min(steps, int(elapsed * steps))
        rng = random.Random(job_id)
        batch = 8
        metrics["/train_total_loss"] = _curve(rng, steps, reached, 2.6, 0.25, 0.05)
        metrics["/train_fraction_of_correct_next_step_preds"] = _curve(
            rng, steps, reached, 0.35, 0.93, 0.01
        )
        metrics["/train_num_predictions"] = [
            {"step": p["step"], "value": float(batch * 12)} for p in metrics["/train_total_loss"]
        ]
        if has_validation:
            metrics["/eval_total_loss"] = _curve(rng, steps, reached, 2.7, 0.35, 0.04)
            metrics["/eval_fraction_of_correct_next_step_preds"] = _curve(
                rng, steps, reached, 0.33, 0.9, 0.01
            )
            metrics["/eval_num_predictions"] = [
                {"step": p["step"], "value": float(batch * 12)} for p in metrics["/eval_total_loss"]
            ]
    return {"simulated": True, "job": name, "state": state, "metrics": metrics}
