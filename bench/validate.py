"""Benchmark `gemini-sft validate --json` on a ~1 GB, ~700k-example dataset.

Prints, beside the issue's targets:
- wall time of ``gemini-sft validate --json`` vs an orjson parse-only loop over the same
  file (target: ratio <= 2.0), both run as subprocesses in the same run;
- peak RSS of the validator including its worker processes (target: <= 200 MB), from
  polling the whole process tree with psutil;
- time to reject a 1.1 GB (sparse) file for size (target: < 1 s).

The dataset is synthetic (generated here, deterministic) and kept in ``bench/_data/``
(gitignored); a later run reuses it. Usage: ``python bench/validate.py [--examples N]``.
The machine may be shared: run it when it is quiet, and read the figures as indicative.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import orjson
import psutil

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "_data"
EXAMPLES = 700_000
TARGET_RATIO, TARGET_RSS_MB, TARGET_REJECT_S = 2.0, 200, 1.0

PARSE_ONLY = """
import sys, orjson
loads = orjson.loads
with open(sys.argv[1], "rb", buffering=1024 * 1024) as f:
    for line in f:
        loads(line)
"""


def generate(path: Path, examples: int, seed: int = 7) -> None:
    """~1.4 kB per example: a system instruction, a ticket, a short answer (synthetic)."""
    sys.path.insert(0, str(HERE.parent))
    from examples.make_sample_data import QUEUES, SYSTEM_INSTRUCTION, make_ticket

    rng = random.Random(seed)
    queues = list(QUEUES)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb", buffering=8 * 1024 * 1024) as out:
        for i in range(examples):
            queue = queues[i % len(queues)]
            ticket = make_ticket(queue, rng)
            record = {
                "systemInstruction": {"parts": [{"text": SYSTEM_INSTRUCTION}]},
                "contents": [
                    {"role": "user", "parts": [{"text": f"Ticket #{i}. {ticket}"}]},
                    {"role": "model", "parts": [{"text": f"queue: {queue}"}]},
                ],
            }
            out.write(orjson.dumps(record) + b"\n")
    tmp.replace(path)


def run_measured(cmd: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS of the process tree in MB, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    parent = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [parent, *parent.children(recursive=True)]
            rss = 0
            for p in tree:
                try:
                    rss += p.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            peak = max(peak, rss)
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - start
    return wall, peak / 1e6, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=EXAMPLES)
    args = parser.parse_args()
    DATA_DIR.mkdir(exist_ok=True)
    dataset = DATA_DIR / f"train_{args.examples}.jsonl"
    if not dataset.exists():
        print(f"generating {args.examples:,} synthetic examples into {dataset} ...", flush=True)
        generate(dataset, args.examples)
    size = dataset.stat().st_size
    print(f"dataset: {dataset} ({size / 1e9:.2f} GB, {args.examples:,} examples)")
    print(f"cores available: {len(os.sched_getaffinity(0))}")

    cli = [sys.executable, "-c", "from pipelines.cli import main; main()"]
    parse_wall, parse_rss, _ = run_measured([sys.executable, "-c", PARSE_ONLY, str(dataset)])
    wall, rss, code = run_measured([*cli, "validate", str(dataset), "--json"])
    assert code == 0, f"validate exited {code}"

    sparse = DATA_DIR / "sparse_1_1GB.jsonl"
    with open(sparse, "wb") as f:
        f.truncate(1_100_000_000)
    reject_wall, _, reject_code = run_measured([*cli, "validate", str(sparse), "--json"])
    assert reject_code == 1, f"size rejection exited {reject_code}"
    sys.path.insert(0, str(HERE.parent))
    from components.validate_dataset.validator import validate_files

    start = time.perf_counter()
    codes = [f.code for f in validate_files(str(sparse)).errors]
    reject_in_process = time.perf_counter() - start
    assert codes == ["file_too_large"], codes

    ratio = wall / parse_wall
    rows = [
        ("orjson parse-only loop", f"{parse_wall:.2f} s", f"{parse_rss:.0f} MB", ""),
        ("gemini-sft validate --json", f"{wall:.2f} s", f"{rss:.0f} MB", ""),
        ("time ratio validate/parse", f"{ratio:.2f}", "", f"<= {TARGET_RATIO}"),
        ("peak RSS incl. workers", f"{rss:.0f} MB", "", f"<= {TARGET_RSS_MB} MB"),
        ("reject 1.1 GB (CLI, incl. start-up)", f"{reject_wall:.3f} s", "", f"< {TARGET_REJECT_S} s"),
        ("reject 1.1 GB (validate_files)", f"{reject_in_process * 1000:.1f} ms", "", ""),
    ]  # fmt: skip
    print(f"\n{'measure':<38}{'value':>12}{'RSS':>10}   target")
    for name, value, memory, target in rows:
        print(f"{name:<38}{value:>12}{memory:>10}   {target}")
    verdicts = {
        "ratio": ratio <= TARGET_RATIO,
        "rss": rss <= TARGET_RSS_MB,
        "reject": reject_wall < TARGET_REJECT_S,
    }
    print("\n" + ", ".join(f"{k}: {'met' if ok else 'MISSED'}" for k, ok in verdicts.items()))
    print(f"throughput: {size / wall / 1e6:.0f} MB/s validate, {size / parse_wall / 1e6:.0f} MB/s parse")


if __name__ == "__main__":
    main()
