"""Benchmark `gemini-sft evaluate --method batch` on 10,000 examples; prints figures.

    python bench/evaluate_batch.py [--examples 10000]

The CLI runs in its own process (its peak RSS is its own VmHWM, its CPU its rusage), the
emulator in another (its batch prediction jobs answer with the tuned-model
simulation). Targets (issue 15): client peak memory <= 150 MB, client CPU far below
the online path, which is run on the same examples (0 ms latency, 16 in flight) as the
baseline. The whole CLI process's peak is mostly the google-genai and storage
clients' imports (~60 MB); the examples are held as compact JSON (~4 MB for 10,000),
and the batch path is also measured alone (RSS growth and tracemalloc peak for 10,000
examples). The machine's load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from evaluate import eval_file, load, row, tuned_endpoint  # noqa: E402

from gemini_sft_kfp.core.clients import storage_client  # noqa: E402

MEMORY_TARGET_MB = 150.0


# The peak is the process's own VmHWM: ``ru_maxrss`` survives ``exec`` on Linux, so a
# child started by this (larger) benchmark process would report the parent's peak.
USAGE_HOOK = (
    "import atexit, resource, sys\n"
    "def _peak_kb():\n"
    "    try:\n"
    "        with open('/proc/self/status') as f:\n"
    "            return int(next(l for l in f if l.startswith('VmHWM')).split()[1])\n"
    "    except (OSError, StopIteration):\n"
    "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "def _usage():\n"
    "    u = resource.getrusage(resource.RUSAGE_SELF)\n"
    "    sys.stderr.write(f'BENCH_USAGE {u.ru_utime + u.ru_stime} {_peak_kb()}\\n')\n"
    "atexit.register(_usage)\n"
    "from gemini_sft_kfp.cli import main; sys.argv[0] = 'gemini-sft'; main()\n"
)


def cli(env: dict, *args: str) -> tuple[dict, float, float, float]:
    """(summary, wall s, CPU s, peak RSS MB) of one `gemini-sft evaluate --json` process."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", USAGE_HOOK, "evaluate", *args, "--json", "-q"],
        env={**os.environ, **env},
        capture_output=True,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"evaluate failed: {done.stderr.decode()[-2000:]}")
    usage = [line for line in done.stderr.decode().splitlines() if line.startswith("BENCH_USAGE")]
    _, cpu, rss_kb = usage[-1].split()
    return orjson.loads(done.stdout), wall, float(cpu), int(rss_kb) / 1024


def batch_path_memory(endpoint: str, data: str) -> tuple[float, float]:
    """(RSS growth, tracemalloc peak) in MB of ``predict_batch`` alone, examples read."""
    import resource
    import tracemalloc

    from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT

    from gemini_sft_kfp.evaluation.batch import predict_batch
    from gemini_sft_kfp.evaluation.eval_data import read_examples
    from gemini_sft_kfp.evaluation.runner import Settings, tuned_target

    examples = read_examples(data)
    target = tuned_target(endpoint, "gemini-2.5-flash")
    # imports and the first job's clients first, so the second measures the path itself
    settings = Settings()
    kwargs = {"project": DEFAULT_PROJECT, "location": DEFAULT_LOCATION, "poll_seconds": 0.2}
    predict_batch(target, examples[:10], settings, staging_uri="gs://bench-batch/w", **kwargs)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    predict_batch(target, examples, settings, staging_uri="gs://bench-batch/m", **kwargs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return growth, peak / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT
    from gemini_sft_kfp.emulator.common.process import EmulatorProcess

    ok_all = True
    with EmulatorProcess(tuning_seconds=1.0) as emu, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(emu.env)
        endpoint = tuned_endpoint(
            DEFAULT_PROJECT, DEFAULT_LOCATION, ROOT / "examples/data/train.jsonl"
        )
        storage_client(DEFAULT_PROJECT).create_bucket("bench-batch")
        data = str(eval_file(args.examples, Path(tmp)))
        common = ["--endpoint", endpoint, "--data", data, "--base-model", "gemini-2.5-flash"]
        print(f"{args.examples} examples; {load()}\n")
        print(f"{'':<46} {'measured':>14}   target / baseline")
        figures = {}
        for method in ("batch", "online"):
            extra = ["--method", method, "--staging", "gs://bench-batch/run"]
            extra += ["--concurrency", str(args.concurrency)]
            summary, wall, cpu, rss = cli(emu.env, *common, *extra)
            figures[method] = {"summary": summary, "wall": wall, "cpu": cpu, "rss": rss}
        small = max(args.examples // 10, 1)
        small_data = str(eval_file(small, Path(tmp)))
        small_args = ["--data", small_data, "--method", "batch", "--staging", "gs://bench-batch/s"]
        *_, small_rss = cli(emu.env, "--endpoint", endpoint, "--base-model", "gemini-2.5-flash",
                            *small_args)  # fmt: skip
        batch, online = figures["batch"], figures["online"]
        ok = batch["summary"]["errors"] == 0 and batch["summary"]["examples"] == args.examples
        ok_all &= ok
        row(
            "batch: examples answered",
            f"{args.examples - batch['summary']['errors']}",
            f"{args.examples}",
            ok,
        )
        ok = batch["rss"] <= MEMORY_TARGET_MB
        ok_all &= ok
        row(
            "batch: client peak RSS (whole CLI process)",
            f"{batch['rss']:.0f} MB",
            f"<= {MEMORY_TARGET_MB:.0f} MB (online: {online['rss']:.0f} MB)",
            ok,
        )
        row(
            f"  flat: peak at {small} examples",
            f"{small_rss:.0f} MB",
            f"+{batch['rss'] - small_rss:.0f} MB for {args.examples - small} more examples",
            None,
        )
        ok = batch["cpu"] < online["cpu"]
        ok_all &= ok
        row(
            "batch: client CPU (whole CLI process)",
            f"{batch['cpu']:.2f} s",
            f"far below online: {online['cpu']:.2f} s",
            ok,
        )
        tuned_b, tuned_o = batch["summary"]["tuned"], online["summary"]["tuned"]
        row(
            "  run only: CPU ms an example",
            f"{tuned_b['client_cpu_ms_per_request']:.3f} ms",
            f"online {tuned_o['client_cpu_ms_per_request']:.3f} ms a request",
            None,
        )
        row(
            "  run only: wall",
            f"{tuned_b['wall_seconds']:.2f} s",
            f"online {tuned_o['wall_seconds']:.2f} s",
            None,
        )
        row(
            "  whole CLI wall (start-up, scoring included)",
            f"{batch['wall']:.2f} s",
            f"online {online['wall']:.2f} s",
            None,
        )
        growth, peak = batch_path_memory(endpoint, data)
        row(
            "  batch path alone: peak Python allocations",
            f"{peak:.1f} MB",
            "(tracemalloc, in this process)",
            None,
        )
        row("  batch path alone: RSS growth", f"{growth:.1f} MB", "", None)
        same = tuned_b["exact_match"] == tuned_o["exact_match"]
        ok_all &= same
        row(
            "same exact_match as online",
            f"{tuned_b['exact_match']:.4f}",
            f"{tuned_o['exact_match']:.4f}",
            same,
        )
        print(f"\n{load()}")
        print(orjson.dumps({"ok": ok_all}).decode())
    return 0 if ok_all else 1


if __name__ == "__main__":
    raise SystemExit(main())
