"""Benchmark: wall time and peak memory of the README's main command, ``gemini-sft run``.

Runs the command as a user does (a fresh process, in-process emulator, shipped sample
data) a few times and prints the figures. Target: <= 30 s wall on a 2-core machine.
Training is simulated by the emulator (``--tuning-seconds``, default 3 s of it).

    python bench/run.py [--repeat 3] [--tuning-seconds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

TARGET_SECONDS = 30.0


def run_once(tuning_seconds: float) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in MB summed over the process tree, exit code)."""
    cli = Path(sys.executable).with_name("gemini-sft")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_EMULATOR_HOST")}
    with tempfile.TemporaryDirectory() as workdir:
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(cli), "run", "--output-dir", workdir, "--tuning-seconds", str(tuning_seconds)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        peak = 0
        watched = psutil.Process(process.pid)
        while process.poll() is None:
            try:
                tree = [watched, *watched.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.05)
        wall = time.perf_counter() - started
        shutil.rmtree(workdir, ignore_errors=True)
    return wall, peak // 2**20, process.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tuning-seconds", type=float, default=3.0)
    args = parser.parse_args()

    print(f"gemini-sft run on the sample data, {args.repeat} runs, cpus={os.cpu_count()}")
    walls = []
    for i in range(args.repeat):
        wall, peak_mb, code = run_once(args.tuning_seconds)
        walls.append(wall)
        print(
            f"  run {i + 1}: {wall:5.1f} s wall, peak RSS (process tree) {peak_mb} MB, exit {code}"
        )
        if code != 0:
            sys.exit(f"run {i + 1} failed (exit {code})")
    median = statistics.median(walls)
    verdict = "OK" if median <= TARGET_SECONDS else "OVER TARGET"
    target = f"target <= {TARGET_SECONDS:.0f} s"
    print(f"median {median:.1f} s, max {max(walls):.1f} s ({target}): {verdict}")
    print(f"of which simulated training: {args.tuning_seconds:.1f} s per run")


if __name__ == "__main__":
    main()
