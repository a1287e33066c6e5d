"""Benchmark the cloud-job core against the emulator (run in a child process); prints figures.

    python bench/upload_launch_wait.py [--megabytes 64]

1. upload of an N MB JSONL dataset (resumable, checksummed): seconds and MB/s.
2. the same upload again (content address already holds it): target <= 1 s.
3. peak Python memory of this process during 1 and 2 (tracemalloc): streaming keeps
   it near the 8 MiB chunk, whatever the file size.
4. launch -> wait with 503 on the first two creates and 30 % 429 on polls: the number
   of jobs that exist afterwards (target: exactly 1) and the wall time.

Training is simulated by the emulator: the launch/wait figures measure the client
(retries, polling), not Vertex AI.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROJECT, LOCATION, BUCKET = "local-project", "us-central1", "bench-bucket"
LINE = (
    b'{"contents": [{"role": "user", "parts": [{"text": "What is the capital of France?"}]}, '
    b'{"role": "model", "parts": [{"text": "Paris."}]}]}\n'
)


def _serve(env_queue, stop_event) -> None:
    from gemini_sft_kfp.emulator import Emulator

    with Emulator(tuning_seconds=1.0) as emu:
        env_queue.put(emu.env)
        while not stop_event.wait(0.2):
            pass


def _make_dataset(directory: str, megabytes: int) -> Path:
    path = Path(directory) / "train.jsonl"
    block = LINE * (1024 * 1024 // len(LINE))
    with path.open("wb") as f:
        for _ in range(megabytes):
            f.write(block)
    return path


def _timed(fn):
    tracemalloc.start()
    started = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, elapsed, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=64)
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    env_queue, stop_event = context.Queue(), context.Event()
    server = context.Process(target=_serve, args=(env_queue, stop_event))
    server.start()
    os.environ.update(env_queue.get(timeout=60))
    try:
        _run(args.megabytes)
    finally:
        stop_event.set()
        server.join(timeout=10)


def _run(megabytes: int) -> None:
    import httpx
    from gemini_sft_kfp.components.launch_tuning_job.executor import run as launch_tuning_job
    from gemini_sft_kfp.components.upload_dataset.executor import run as upload_dataset
    from gemini_sft_kfp.components.wait_for_tuning_job.executor import run as wait_for_tuning_job

    from gemini_sft_kfp.core.clients import storage_client
    from gemini_sft_kfp.jobs import runner as cloud_job

    storage_client(PROJECT).create_bucket(BUCKET)
    with tempfile.TemporaryDirectory() as tmp:
        path = _make_dataset(tmp, megabytes)
        size_mb = path.stat().st_size / 2**20

        def upload():
            return upload_dataset(PROJECT, source_uri=str(path), bucket=BUCKET)

        first, first_s, first_peak = _timed(upload)
        again, again_s, again_peak = _timed(upload)
    print(
        f"upload      {size_mb:7.1f} MB  {first_s:6.2f} s  {size_mb / first_s:7.1f} MB/s  "
        f"peak {first_peak:6.1f} MiB  uploaded={first.uploaded}"
    )
    print(
        f"re-upload   {size_mb:7.1f} MB  {again_s:6.2f} s  (target <= 1 s)  "
        f"peak {again_peak:6.1f} MiB  uploaded={again.uploaded}"
    )

    vertex = os.environ["VERTEX_AI_EMULATOR_HOST"]
    for fault in (
        {"method": "tuningJobs.create", "status": 503, "times": 2},
        {"method": "tuningJobs.get", "status": 429, "rate": 0.3},
    ):
        httpx.post(f"{vertex}/emulator/faults", json=fault).raise_for_status()
    cloud_job.CREATE_BACKOFF_SECONDS = (0.2, 1.0)
    started = time.perf_counter()
    name = launch_tuning_job(
        PROJECT,
        LOCATION,
        training_dataset_uri=first.uri,
        pipeline_job_id="bench",
        task_name="launch",
    )
    result = wait_for_tuning_job(
        PROJECT, LOCATION, name, poll_initial_seconds=0.2, poll_max_seconds=1.0
    )
    elapsed = time.perf_counter() - started
    httpx.delete(f"{vertex}/emulator/faults")
    jobs_url = f"{vertex}/v1/projects/{PROJECT}/locations/{LOCATION}/tuningJobs"
    jobs = httpx.get(jobs_url).json().get("tuningJobs", [])
    print(
        f"launch+wait with 2x503 creates, 30% 429 polls: {len(jobs)} job(s) (target 1), "
        f"{elapsed:.1f} s, model {result.tuned_model.rsplit('/', 1)[-1]} (simulated training)"
    )


if __name__ == "__main__":
    main()
