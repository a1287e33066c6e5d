"""Benchmark `gemini-sft validate --json` on a ~1 GB, ~700k-example dataset.

Prints, beside the issue's targets:
- wall time of ``gemini-sft validate --json`` vs an orjson parse-only loop over the same
  file (target: ratio <= 2.0), both run as subprocesses in the same run, alternating,
  best of three each (the machine may be shared; every run's time is printed too);
- peak RSS of the validator including its worker processes (target: <= 200 MB), from
  polling the whole process tree with psutil;
- time to reject a 1.1 GB (sparse) file for size (target: < 1 s).

Both tuning methods are measured: supervised lines (a ticket and its answer) and
preference lines (the same ticket as the prompt, a preferred and a dispreferred answer);
``--method`` picks one. The datasets are synthetic (generated here, deterministic) and
kept in ``bench/_data/`` (gitignored); a later run reuses them. Usage:
``python bench/validate.py [--examples N] [--method supervised|preference|both]``.
The machine may be shared: run it when it is quiet, and read the figures as indicative.
"""

from __future__ import annotations

import argparse
import contextlib
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
ROUNDS = 3
REJECT_MODEL = "gemini-2.5-flash"

PARSE_ONLY = """
import sys, orjson
loads = orjson.loads
with open(sys.argv[1], "rb", buffering=1024 * 1024) as f:
    for line in f:
        loads(line)
"""


PLANS = ("free", "basic", "plus", "premium", "business", "enterprise")
CHANNELS = ("email", "chat", "phone", "web form", "social", "app")
TAGS = (
    "vip", "repeat-contact", "new-customer", "eu", "us", "apac", "b2b", "b2c", "mobile",
    "desktop", "escalated", "first-contact", "loyalty", "trial", "annual", "monthly",
)  # fmt: skip


def generate(path: Path, examples: int, seed: int = 7, method: str = "supervised") -> None:
    """~1.4 kB per example: a system instruction, a ticket with context, an answer (synthetic);
    for preference data the ticket is the prompt and a wrong queue the dispreferred answer."""
    sys.path.insert(0, str(HERE.parent))
    from examples.make_sample_data import QUEUES, SYSTEM_INSTRUCTION, make_ticket

    rng = random.Random(seed)
    queues = list(QUEUES)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb", buffering=8 * 1024 * 1024) as out:
        for i in range(examples):
            queue = queues[i % len(queues)]
            ticket = make_ticket(queue, rng)
            context = (  # what a help-desk export adds to each ticket: ~400 bytes
                f"[customer {rng.randrange(10**8):08d} | plan {rng.choice(PLANS)} | "
                f"channel {rng.choice(CHANNELS)} | orders {rng.randrange(1, 60)} | "
                f"last order {rng.randrange(10**6):06d} on 2025-{rng.randrange(1, 13):02d}-"
                f"{rng.randrange(1, 29):02d} | tags {', '.join(rng.sample(TAGS, 4))} | "
                f"sentiment {rng.random():.2f} | sla {rng.choice(('4h', '8h', '24h', '72h'))} | "
                f"priority {rng.choice(('low', 'normal', 'high', 'urgent'))} | language en | "
                f"browser {rng.choice(('firefox', 'chrome', 'safari', 'edge'))} | "
                f"app version 4.{rng.randrange(30)}.{rng.randrange(10)}]"
            )
            prompt = {"role": "user", "parts": [{"text": f"Ticket #{i}. {ticket}\n{context}"}]}
            answer = {"role": "model", "parts": [{"text": f"queue: {queue}"}]}
            record = {
                "systemInstruction": {"parts": [{"text": SYSTEM_INSTRUCTION}]},
                "contents": [prompt, answer],
            }
            if method == "preference":
                wrong = queues[(i + 1) % len(queues)]
                record["contents"] = [prompt]
                record["completions"] = [
                    {"score": 1, "completion": answer},
                    {"score": 0, "completion": {"role": "model",
                                                "parts": [{"text": f"queue: {wrong}"}]}},
                ]  # fmt: skip
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
                with contextlib.suppress(psutil.NoSuchProcess):
                    rss += p.memory_info().rss
            peak = max(peak, rss)
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - start
    return wall, peak / 1e6, proc.returncode


def measure(dataset: Path, method: str) -> dict:
    """Best-of-rounds wall time and worst RSS of validate and of a parse-only loop."""
    os.sync()  # a freshly written file's write-back would otherwise slow the first run
    cli = [sys.executable, "-c", "from gemini_sft_kfp.cli import main; main()"]
    parse_runs, validate_runs = [], []
    for _ in range(ROUNDS):  # alternate, keep the best of each: the machine may be shared
        parse_runs.append(run_measured([sys.executable, "-c", PARSE_ONLY, str(dataset)]))
        validate_runs.append(
            run_measured([*cli, "validate", str(dataset), "--json", "--method", method])
        )
        assert validate_runs[-1][2] == 0, f"validate exited {validate_runs[-1][2]}"
    print(f"{method} runs (s): parse " + ", ".join(f"{r[0]:.2f}" for r in parse_runs)
          + "; validate " + ", ".join(f"{r[0]:.2f}" for r in validate_runs))  # fmt: skip
    return {
        "parse_wall": min(r[0] for r in parse_runs),
        "parse_rss": max(r[1] for r in parse_runs),
        "wall": min(r[0] for r in validate_runs),
        "rss": max(r[1] for r in validate_runs),
        "mb": dataset.stat().st_size / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=EXAMPLES)
    parser.add_argument("--method", choices=("supervised", "preference", "both"), default="both")
    args = parser.parse_args()
    DATA_DIR.mkdir(exist_ok=True)
    methods = ("supervised", "preference") if args.method == "both" else (args.method,)
    print(f"cores available: {len(os.sched_getaffinity(0))}")
    results = {}
    for method in methods:
        tag = "train_v2" if method == "supervised" else "preference_v1"
        dataset = DATA_DIR / f"{tag}_{args.examples}.jsonl"
        if not dataset.exists():
            print(f"generating {args.examples:,} synthetic {method} examples into {dataset} ...",
                  flush=True)  # fmt: skip
            generate(dataset, args.examples, method=method)
        size = dataset.stat().st_size
        print(f"{method} dataset: {dataset} ({size / 1e9:.2f} GB, {args.examples:,} examples)")
        results[method] = measure(dataset, method)

    cli = [sys.executable, "-c", "from gemini_sft_kfp.cli import main; main()"]
    sparse = DATA_DIR / "sparse_1_1GB.jsonl"
    with open(sparse, "wb") as f:
        f.truncate(1_100_000_000)
    # a model whose file-size limit is published (an unconfirmed one warns and reads on)
    reject = [*cli, "validate", str(sparse), "--json", "--model", REJECT_MODEL]
    reject_wall, _, reject_code = run_measured(reject)
    assert reject_code == 1, f"size rejection exited {reject_code}"
    sys.path.insert(0, str(HERE.parent))
    from gemini_sft_kfp.components.validate_dataset.validator import validate_files

    start = time.perf_counter()
    codes = [f.code for f in validate_files(str(sparse), model=REJECT_MODEL).errors]
    reject_in_process = time.perf_counter() - start
    assert codes == ["file_too_large"], codes

    rows = []
    verdicts = {}
    for method, r in results.items():
        ratio = r["wall"] / r["parse_wall"]
        rows += [
            (f"{method}: orjson parse-only (best)", f"{r['parse_wall']:.2f} s",
             f"{r['parse_rss']:.0f} MB", ""),
            (f"{method}: validate --json (best)", f"{r['wall']:.2f} s", f"{r['rss']:.0f} MB", ""),
            (f"{method}: ratio validate/parse", f"{ratio:.2f}", "", f"<= {TARGET_RATIO}"),
            (f"{method}: peak RSS incl. workers", f"{r['rss']:.0f} MB", "",
             f"<= {TARGET_RSS_MB} MB"),
        ]  # fmt: skip
        verdicts[f"{method} ratio"] = ratio <= TARGET_RATIO
        verdicts[f"{method} rss"] = r["rss"] <= TARGET_RSS_MB
    rows += [
        ("reject 1.1 GB (CLI, incl. start-up)", f"{reject_wall:.3f} s", "",
         f"< {TARGET_REJECT_S} s"),
        ("reject 1.1 GB (validate_files)", f"{reject_in_process * 1000:.1f} ms", "", ""),
    ]  # fmt: skip
    verdicts["reject"] = reject_wall < TARGET_REJECT_S
    print(f"\n{'measure':<40}{'value':>12}{'RSS':>10}   target")
    for name, value, memory, target in rows:
        print(f"{name:<40}{value:>12}{memory:>10}   {target}")
    print("\n" + ", ".join(f"{k}: {'met' if ok else 'MISSED'}" for k, ok in verdicts.items()))
    for method, r in results.items():
        print(f"throughput ({method}): {r['mb'] / r['wall']:.0f} MB/s validate, "
              f"{r['mb'] / r['parse_wall']:.0f} MB/s parse-only")  # fmt: skip


if __name__ == "__main__":
    main()
