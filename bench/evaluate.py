"""Benchmark `evaluate_model`'s runner against the emulator in its own process; prints figures.

    python bench/evaluate.py [--examples 1000] [--concurrency 16]

1. 1,000 examples, 100 ms injected latency, concurrency 16: target <= 1.25 x 1000 x 0.1 / 16 s.
2. a 3,600 requests/minute limit: the highest rate over any 200 consecutive requests
   stays under it.
3. 10 % injected 429s: every one of the 1,000 examples still gets a prediction.

The tuned "model" is the emulator's simulation (nearest training example), so the
figures measure the client (concurrency, rate limiting, retries), not model quality.
The emulator runs as a separate process, as a remote endpoint would: in-process it
would share this client's GIL and slow the very thing measured.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gemini_sft_kfp.components.evaluate_model.eval_data import read_examples  # noqa: E402
from gemini_sft_kfp.components.evaluate_model.rate_limit import RateLimiter  # noqa: E402
from gemini_sft_kfp.components.evaluate_model.runner import (  # noqa: E402
    Settings,
    predict_all,
    tuned_target,
)

from gemini_sft_kfp.core.clients import genai_client, storage_client  # noqa: E402

METHOD = "endpoints.generateContent"
BASE_MODEL = "gemini-2.5-flash"


def tuned_endpoint(project: str, location: str, train: Path) -> str:
    """Tune on the sample data in the emulator and return the tuned endpoint's name."""
    from google.genai import types

    bucket = storage_client(project).create_bucket("bench-evaluate")
    bucket.blob("train.jsonl").upload_from_filename(str(train))
    client = genai_client(project, location)
    job = client.tunings.tune(
        base_model=BASE_MODEL,
        training_dataset=types.TuningDataset(gcs_uri="gs://bench-evaluate/train.jsonl"),
        config=types.CreateTuningJobConfig(tuned_model_display_name="bench"),
    )
    while not job.has_ended:
        time.sleep(0.2)
        job = client.tunings.get(name=job.name)
    if not job.has_succeeded:
        raise SystemExit(f"tuning in the emulator failed: {job.state} {job.error}")
    return job.tuned_model.endpoint


def eval_file(n: int, directory: Path) -> Path:
    """``n`` examples, cycling through the sample eval set."""
    lines = (ROOT / "examples/data/eval.jsonl").read_bytes().splitlines()
    path = directory / f"eval_{n}.jsonl"
    path.write_bytes(b"\n".join(lines[i % len(lines)] for i in range(n)) + b"\n")
    return path


class SendTimes:
    """Wraps the client to record when each request is sent (after the rate limiter)."""

    def __init__(self, client):
        self._client = client
        self.times: list[float] = []
        self._lock = threading.Lock()
        self.models = self

    def generate_content(self, **kwargs):
        with self._lock:
            self.times.append(time.monotonic())
        return self._client.models.generate_content(**kwargs)


def max_rate_per_minute(times: list[float], window: int) -> float:
    """Highest rate over any ``window`` consecutive requests, in requests per minute."""
    times = sorted(times)
    rates = [
        (window - 1) / (times[i + window - 1] - times[i]) * 60.0
        for i in range(len(times) - window + 1)
    ]
    return max(rates)


def run(client, endpoint, examples, *, concurrency, rpm=0):
    started = time.perf_counter()
    predictions = predict_all(
        client,
        tuned_target(endpoint, BASE_MODEL),
        examples,
        Settings(retry_initial_seconds=0.2, retry_max_seconds=2.0),
        concurrency=concurrency,
        limiter=RateLimiter(rpm),
    )
    return predictions, time.perf_counter() - started


def row(name: str, value: str, target: str, ok: bool) -> None:
    print(f"{name:<44} {value:>16}   target {target:<20} {'OK' if ok else 'MISSED'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--rpm", type=int, default=3600)
    parser.add_argument("--rate-window", type=int, default=200)
    args = parser.parse_args()

    import resource

    from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT
    from gemini_sft_kfp.emulator.process import EmulatorProcess

    all_ok = True
    with (
        EmulatorProcess(tuning_seconds=0.5) as emu,
        tempfile.TemporaryDirectory() as tmp,
    ):
        os.environ.update(emu.env)
        project, location = DEFAULT_PROJECT, DEFAULT_LOCATION
        endpoint = tuned_endpoint(project, location, ROOT / "examples/data/train.jsonl")
        examples = read_examples(str(eval_file(args.examples, Path(tmp))))
        client = genai_client(project, location, timeout_ms=60_000)
        print(f"emulator (simulated tuned model), endpoint {endpoint}")
        print(f"{len(examples)} examples, concurrency {args.concurrency}\n")

        # warm-up: the emulator builds the tuned model's index on its first request
        run(client, endpoint, examples[:1], concurrency=1)

        # 1. throughput under injected latency
        emu.add_fault(method=METHOD, latency_ms=args.latency_ms)
        predictions, seconds = run(client, endpoint, examples, concurrency=args.concurrency)
        ideal = len(examples) * args.latency_ms / 1000 / args.concurrency
        ok = seconds <= 1.25 * ideal and all(p.ok for p in predictions)
        all_ok &= ok
        row(
            f"{args.latency_ms} ms latency, concurrency {args.concurrency}",
            f"{seconds:.2f} s",
            f"<= {1.25 * ideal:.2f} s",
            ok,
        )
        print(
            f"{'  (ideal ' + format(ideal, '.2f') + ' s; requests/s)':<44} "
            f"{len(examples) / seconds:>14.1f}/s"
        )

        # 2. the rate limit holds over a window of N requests
        emu.clear_faults()
        timed = SendTimes(client)
        sample = examples[: max(args.rate_window * 2, 400)]
        predictions, seconds = run(
            timed, endpoint, sample, concurrency=args.concurrency, rpm=args.rpm
        )
        peak = max_rate_per_minute(timed.times, args.rate_window)
        overall = (len(timed.times) - 1) / (max(timed.times) - min(timed.times)) * 60
        ok = peak <= args.rpm and all(p.ok for p in predictions)
        all_ok &= ok
        row(
            f"peak rate over {args.rate_window} requests (limit {args.rpm})",
            f"{peak:.0f}/min",
            f"<= {args.rpm}/min",
            ok,
        )
        row(
            f"overall rate, {len(sample)} requests",
            f"{overall:.0f}/min",
            f"<= {args.rpm}/min",
            overall <= args.rpm,
        )

        # 3. nothing dropped under 10 % throttling
        emu.clear_faults()
        emu.add_fault(method=METHOD, status=429, rate=0.1)
        predictions, seconds = run(client, endpoint, examples, concurrency=args.concurrency)
        answered = sum(p.ok for p in predictions)
        retries = sum(p.attempts - 1 for p in predictions)
        throttled = sum(1 for r in emu.requests() if r["method"] == METHOD and r["status"] == 429)
        ok = answered == len(examples) and len(predictions) == len(examples)
        all_ok &= ok
        row(
            "10 % injected 429s: examples with an answer",
            f"{answered}/{len(examples)}",
            f"{len(examples)}/{len(examples)}",
            ok,
        )
        print(
            f"{'  429s served / retries / seconds':<44} {throttled:>5} / {retries} / {seconds:.1f}"
        )
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{'peak RSS of this process (the client)':<44} {rss:>13.0f} MB")
        print(orjson.dumps({"ok": all_ok}).decode())
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
