"""Benchmark `evaluate_model`'s runner against the emulator in its own process; prints figures.

    python bench/evaluate.py [--examples 1000] [--concurrency 16] [--latency-ms 100]

1. 1,000 examples, 100 ms injected latency, concurrency 16, through the lean REST client
   (the default) and, as the baseline, through the google-genai client: target
   <= 1.10 x the ideal 1000 x 0.1 / 16 = 6.25 s, i.e. 6.9 s.
2. client CPU a request at 0 ms latency: target <= 2 ms (worker threads' CPU, and the
   whole process's CPU over the run).
3. the same through `gemini-sft evaluate --json` in its own process (CLI start-up
   excluded: the run's own ``wall_seconds``).
4. a 3,600 requests/minute limit: the highest rate over any 200 consecutive requests
   stays under it.
5. 10 % injected 429s: every one of the 1,000 examples still gets a prediction.

The machine's load average is printed beside the figures: other processes share the
2 cores, and the emulator (the "server", ~1 ms CPU a request once its simulated
answers are remembered, 2-3 ms before) runs on them too.
The tuned "model" is the emulator's simulation (nearest training example), so the
figures measure the client (concurrency, rate limiting, retries), not model quality.
The emulator runs as a separate process, as a remote endpoint would: in-process it
would share this client's GIL and slow the very thing measured.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gemini_sft_kfp.core.clients import genai_client, storage_client  # noqa: E402
from gemini_sft_kfp.evaluation.eval_data import read_examples  # noqa: E402
from gemini_sft_kfp.evaluation.rate_limit import RateLimiter  # noqa: E402
from gemini_sft_kfp.evaluation.rest import RestCaller  # noqa: E402
from gemini_sft_kfp.evaluation.runner import (  # noqa: E402
    RunStats,
    SdkCaller,
    Settings,
    predict_all,
    tuned_target,
)

METHOD = "endpoints.generateContent"
BASE_MODEL = "gemini-2.5-flash"
# The figures before this client (same machine, google-genai client, 16 threads)
BASELINE_CLI_SECONDS = "12.9-13.2 s"
BASELINE_CPU_MS = "~10 ms (CLI), 2.2-2.5 ms (runner alone)"


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
    """Wraps a caller to record when each request is sent (after the rate limiter)."""

    def __init__(self, caller):
        self._caller = caller
        self.times: list[float] = []
        self._lock = threading.Lock()

    def prepare(self, model, body):
        return self._caller.prepare(model, body)

    def send(self, request):
        with self._lock:
            self.times.append(time.monotonic())
        return self._caller.send(request)


def max_rate_per_minute(times: list[float], window: int) -> float:
    """Highest rate over any ``window`` consecutive requests, in requests per minute."""
    times = sorted(times)
    rates = [
        (window - 1) / (times[i + window - 1] - times[i]) * 60.0
        for i in range(len(times) - window + 1)
    ]
    return max(rates)


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(caller, endpoint, examples, *, concurrency, rpm=0):
    """(predictions, seconds, stats, process CPU ms a request) for one pass."""
    stats = RunStats()
    cpu = process_cpu()
    predictions = predict_all(
        caller,
        tuned_target(endpoint, BASE_MODEL),
        examples,
        Settings(retry_initial_seconds=0.2, retry_max_seconds=2.0),
        concurrency=concurrency,
        limiter=RateLimiter(rpm),
        stats=stats,
    )
    process_ms = (process_cpu() - cpu) / max(1, stats.requests) * 1000
    return predictions, stats.wall_seconds, stats, process_ms


def through_cli(emu_env: dict, endpoint: str, data: Path, concurrency: int) -> dict:
    """`gemini-sft evaluate --json` in its own process: its summary (``tuned`` metrics)."""
    code = "import sys; from gemini_sft_kfp.cli import main; sys.argv[0] = 'gemini-sft'; main()"
    args = ["evaluate", "--endpoint", endpoint, "--data", str(data), "--base-model", BASE_MODEL]
    args += ["--concurrency", str(concurrency), "--json", "-q"]
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**os.environ, **emu_env},
        capture_output=True,
        check=True,
    )
    summary = orjson.loads(out.stdout)
    summary["process_seconds"] = time.perf_counter() - started
    return summary


def row(name: str, value: str, target: str, ok: bool | None) -> None:
    verdict = "" if ok is None else "OK" if ok else "MISSED"
    print(f"{name:<46} {value:>14}   {target:<28} {verdict}", flush=True)


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--rpm", type=int, default=3600)
    parser.add_argument("--rate-window", type=int, default=200)
    parser.add_argument("--no-sdk", action="store_true", help="Skip the google-genai baseline.")
    args = parser.parse_args()

    from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT
    from gemini_sft_kfp.emulator.common.process import EmulatorProcess

    all_ok = True
    with (
        EmulatorProcess(tuning_seconds=0.5) as emu,
        tempfile.TemporaryDirectory() as tmp,
    ):
        os.environ.update(emu.env)
        project, location = DEFAULT_PROJECT, DEFAULT_LOCATION
        endpoint = tuned_endpoint(project, location, ROOT / "examples/data/train.jsonl")
        data = eval_file(args.examples, Path(tmp))
        examples = read_examples(str(data))
        rest = RestCaller(project, location, timeout_seconds=60)
        sdk = SdkCaller(genai_client(project, location, timeout_ms=60_000))
        print(f"emulator (simulated tuned model), endpoint {endpoint}")
        print(f"{len(examples)} examples, concurrency {args.concurrency}; {load()}\n")
        print(f"{'':<46} {'measured':>14}   target / baseline")

        # warm-up: the emulator builds the tuned model's index on its first request
        run(rest, endpoint, examples[:32], concurrency=4)
        run(sdk, endpoint, examples[:32], concurrency=4)

        # 1. throughput under injected latency
        emu.add_fault(method=METHOD, latency_ms=args.latency_ms)
        ideal = len(examples) * args.latency_ms / 1000 / args.concurrency
        predictions, seconds, stats, _ = run(rest, endpoint, examples, concurrency=args.concurrency)
        ok = seconds <= 1.10 * ideal and all(p.ok for p in predictions)
        all_ok &= ok
        row(
            f"{args.latency_ms} ms latency, concurrency {args.concurrency} (REST)",
            f"{seconds:.2f} s",
            f"<= {1.10 * ideal:.2f} s (ideal {ideal:.2f})",
            ok,
        )
        row("  achieved rate", f"{stats.requests_per_minute:.0f}/min", "", None)
        if not args.no_sdk:
            _, sdk_seconds, _, _ = run(sdk, endpoint, examples, concurrency=args.concurrency)
            row("  baseline: google-genai client, same run", f"{sdk_seconds:.2f} s", "", None)

        # 2. client CPU a request without latency
        emu.clear_faults()
        predictions, seconds, stats, process_ms = run(
            rest, endpoint, examples, concurrency=args.concurrency
        )
        ok = process_ms <= 2.0 and all(p.ok for p in predictions)
        all_ok &= ok
        row(
            "client CPU a request, 0 ms latency (process)",
            f"{process_ms:.2f} ms",
            f"<= 2 ms (was {BASELINE_CPU_MS})",
            ok,
        )
        row("  worker threads only", f"{stats.client_cpu_ms_per_request:.2f} ms", "", None)
        rate = f"{stats.requests_per_minute:.0f}/min"
        row("  wall / achieved rate", f"{seconds:.2f} s", rate, None)
        if not args.no_sdk:
            *_, sdk_ms = run(sdk, endpoint, examples, concurrency=args.concurrency)
            row("  baseline: google-genai client (process)", f"{sdk_ms:.2f} ms", "", None)

        # 3. through the CLI, in its own process
        emu.add_fault(method=METHOD, latency_ms=args.latency_ms)
        summary = through_cli(emu.env, endpoint, data, args.concurrency)
        tuned = summary["tuned"]
        ok = tuned["wall_seconds"] <= 1.10 * ideal and summary["errors"] == 0
        all_ok &= ok
        row(
            f"CLI, {args.latency_ms} ms latency (start-up excluded)",
            f"{tuned['wall_seconds']:.2f} s",
            f"<= {1.10 * ideal:.2f} s (was {BASELINE_CLI_SECONDS})",
            ok,
        )
        row(
            "  CLI: client CPU a request / whole process",
            f"{tuned['client_cpu_ms_per_request']:.2f} ms",
            f"{summary['process_seconds']:.2f} s with start-up",
            None,
        )

        # 4. the rate limit holds over a window of N requests
        emu.clear_faults()
        timed = SendTimes(rest)
        sample = examples[: max(args.rate_window * 2, 400)]
        predictions, seconds, stats, _ = run(
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

        # 5. nothing dropped under 10 % throttling
        emu.clear_faults()
        emu.add_fault(method=METHOD, status=429, rate=0.1)
        predictions, seconds, stats, _ = run(rest, endpoint, examples, concurrency=args.concurrency)
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
        served = f"{throttled} / {retries}"
        row("  429s served / retries / seconds", served, f"{seconds:.1f} s", None)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        row("peak RSS of this process (the client)", f"{rss:.0f} MB", "", None)
        print(f"\n{load()}")
        print(orjson.dumps({"ok": all_ok}).decode())
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
