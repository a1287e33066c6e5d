"""``gemini-sft emulator --detach``: the emulator in the background, its environment as
``export`` lines on stdout, then return.

``eval "$(gemini-sft emulator ... &)"`` cannot work: the command substitution waits for
its stdout to close, and a backgrounded emulator keeps it open for as long as it runs.
Here the emulator's own stdout and stderr go to files, so the substitution ends once the
environment is printed; the emulator keeps running (its own session) until killed.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import typer

from gemini_sft_kfp.core.errors import UserError

READY = "# emulator ready"
PID_VARIABLE = "GEMINI_SFT_EMULATOR_PID"
START_TIMEOUT_SECONDS = 60.0


def start_detached(args: list[str], state_dir: Path | None) -> int:
    """Start ``gemini-sft emulator ARGS`` in the background; print ``export`` lines for its
    environment and PID; its pid. UserError (with the log's last line) if it cannot start."""
    log_dir = state_dir.resolve() if state_dir else Path(tempfile.mkdtemp(prefix="gemini-sft-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    env_file, log_file = log_dir / "emulator.env", log_dir / "emulator.log"
    code = "import sys; from gemini_sft_kfp.cli import main; sys.argv[0] = 'gemini-sft'; main()"
    with env_file.open("wb") as out, log_file.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", code, "emulator", *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,  # outlives this command and the shell's job control
        )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    with LogTail(log_file) as log:
        while not log.shows(READY):
            if process.poll() is not None or time.monotonic() > deadline:
                if process.poll() is None:
                    process.kill()
                raise UserError(
                    f"the emulator did not start ({last_line(log_file) or _silent(log_dir)}); "
                    f"log: {log_file}",
                    field="detach",
                )
            time.sleep(0.1)
    for line in env_file.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.isidentifier():
            typer.echo(f"export {key}={shlex.quote(value)}")
    typer.echo(f"export {PID_VARIABLE}={process.pid}")
    typer.echo(
        f"# emulator running in the background (pid {process.pid}, log {log_file}); "
        f"stop it: kill ${PID_VARIABLE}",
        err=True,
    )
    return process.pid


def _silent(log_dir: Path) -> str:
    """Why an emulator that failed left no log: most often, no room to write one."""
    from gemini_sft_kfp.core.outputs import FULL_DISK_BYTES, free_bytes

    if free_bytes(log_dir) < FULL_DISK_BYTES:
        return f"no output: the disk of {log_dir} is full, so neither is its log"
    return "no output"


class LogTail:
    """A growing log, read from where the last look stopped: waiting for start-up reads
    each byte once (re-reading the whole log ten times a second grows with the log)."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("rb")
        self._carry = b""  # the end of the last read: a marker may straddle two reads

    def shows(self, marker: str) -> bool:
        """Whether ``marker`` has been written by now."""
        wanted = marker.encode()
        text = self._carry + self._file.read()
        if wanted in text:
            return True
        self._carry = text[-(len(wanted) - 1) :] if len(wanted) > 1 else b""
        return False

    def __enter__(self) -> LogTail:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()


LAST_LINE_BYTES = 4096


def last_line(path: Path) -> str:
    """The log's last non-empty line (read from its end: the log may be long)."""
    with path.open("rb") as log:
        log.seek(max(0, log.seek(0, os.SEEK_END) - LAST_LINE_BYTES))
        lines = [line for line in log.read().decode(errors="replace").splitlines() if line]
    return lines[-1] if lines else ""
