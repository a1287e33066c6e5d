"""Peak memory and time of every JSONL reader on files with huge lines (issue 22).

Generates, in a temporary directory (deleted at the end; about 1.5 GB of disk):
- ``one_line.jsonl``: 1.1 GB without a line break;
- ``line_300mb.jsonl``: 3 good examples, one 300 MB line, 16 good examples;
- ``at_cap.jsonl``: the same around one valid example just under the per-line cap
  (``core/jsonl.py``: 32 MiB today), the largest line any reader still parses.

and runs ``gemini-sft validate --tokens estimate --json``, ``gemini-sft convert`` and the
eval-set reader (``read_examples``, as ``evaluate`` and the run's up-front check call it)
on each, as subprocesses. Peak RSS is the whole process tree's, polled with psutil every
20 ms. The figures measured before the cap (issue 22) are printed beside; the target is
<= 200 MB on any input file. Usage: ``python bench/huge_lines.py [--tmp DIR]``. The
machine may be shared: read the times as indicative.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import psutil

from gemini_sft_kfp.core.jsonl import max_line_bytes

MB = 1 << 20
TARGET_RSS_MB = 200
GOOD = orjson.dumps(
    {
        "contents": [
            {"role": "user", "parts": [{"text": "Where is my parcel?"}]},
            {"role": "model", "parts": [{"text": "queue: shipping"}]},
        ]
    }
)
HEAD = b'{"contents": [{"role": "user", "parts": [{"text": "'
TAIL = b'"}]}, {"role": "model", "parts": [{"text": "ok"}]}]}'
# issue 22, measured before the per-line cap ("-": not measured there)
BASELINE = {
    ("validate", "one_line"): "3.4 GB, 14-27 s",
    ("validate", "line_300mb"): "~1 GB",
    ("convert", "line_300mb"): "1.3 GB",
    ("eval reader", "line_300mb"): "1.3 GB",
}
EVAL_READER = """
import sys
from gemini_sft_kfp.evaluation.eval_data import read_examples
from gemini_sft_kfp.core.errors import UserError
try:
    read_examples(sys.argv[1])
except UserError as exc:
    print(exc, file=sys.stderr)
    sys.exit(1)
"""


def write_line_file(path: Path, line_bytes: int, *, newline: bool = True, around: bool = True):
    """One example of ``line_bytes`` bytes (a text part of 'a's), between good ones."""
    block = b"a" * MB
    with path.open("wb") as out:
        if around:
            out.write((GOOD + b"\n") * 3)
        out.write(HEAD)
        remaining = line_bytes - len(HEAD) - len(TAIL)
        while remaining > 0:
            out.write(block[: min(MB, remaining)])
            remaining -= MB
        out.write(TAIL)
        if newline:
            out.write(b"\n")
        if around:
            out.write((GOOD + b"\n") * 16)


def run_measured(cmd: list[str]) -> tuple[float, float, int, str]:
    """(wall seconds, peak RSS of the process tree in MB, exit code, the first error line)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    parent = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        with contextlib.suppress(psutil.NoSuchProcess):
            rss = 0
            for p in [parent, *parent.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    rss += p.memory_info().rss
            peak = max(peak, rss)
        time.sleep(0.02)
    wall = time.perf_counter() - start
    said = proc.stdout.read().decode(errors="replace").splitlines()
    errors = [line for line in said if line.startswith("error")] or said[-1:]
    return wall, peak / MB, proc.returncode, (errors[0] if errors else "")


def commands(path: Path, out: Path) -> dict[str, list[str]]:
    cli = [str(Path(sys.executable).with_name("gemini-sft"))]
    return {
        "validate": [*cli, "validate", str(path), "--tokens", "estimate"],
        "convert": [*cli, "convert", str(path), str(out)],
        "eval reader": [sys.executable, "-c", EVAL_READER, str(path)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tmp", default=None, help="Where to write the files (default: /tmp).")
    args = parser.parse_args()
    cap = max_line_bytes()
    directory = Path(tempfile.mkdtemp(prefix="huge-lines-", dir=args.tmp))
    free = shutil.disk_usage(directory).free
    if free < 3 * 1024 * MB:
        sys.exit(f"{directory}: {free / MB:,.0f} MB free; this needs about 1.5 GB (and room)")
    files = {
        "one_line": (1100 * MB, {"newline": False, "around": False}),
        "line_300mb": (300 * MB, {}),
        "at_cap": (cap - 64, {}),
    }
    print(f"per-line cap: {cap:,} bytes; target: peak RSS <= {TARGET_RSS_MB} MB")
    print(
        f"{'reader':<12} {'file':<11} {'peak MB':>8} {'seconds':>8} {'exit':>4}  "
        "before the cap / the first error"
    )
    try:
        for name, (size, options) in files.items():
            path = directory / f"{name}.jsonl"
            write_line_file(path, size, **options)
            for reader, cmd in commands(path, directory / "out.jsonl").items():
                wall, peak, code, said = run_measured(cmd)
                before = BASELINE.get((reader, name), "-")
                flag = "" if peak <= TARGET_RSS_MB else "  OVER TARGET"
                print(
                    f"{reader:<12} {name:<11} {peak:>8.0f} {wall:>8.1f} {code:>4}  "
                    f"{before} / {said[:140]}{flag}",
                    flush=True,
                )
                (directory / "out.jsonl").unlink(missing_ok=True)
            path.unlink()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
