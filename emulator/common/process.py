"""The emulator in its own process, driven over its HTTP test hooks.

A real Vertex endpoint is another machine; an in-process emulator shares the client's
GIL and so slows the very client a benchmark measures. ``EmulatorProcess`` runs
``gemini-sft emulator`` as a child process and offers the hooks of the in-process
``Emulator`` (``env``, ``add_fault``, ``clear_faults``, ``requests``, ``reset``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

_START_TIMEOUT_SECONDS = 30.0


class EmulatorProcess:
    """``with EmulatorProcess(tuning_seconds=1.0) as emu: os.environ.update(emu.env)``."""

    def __init__(self, *, tuning_seconds: float = 2.0, extra_args: tuple[str, ...] = ()):
        self._args = (
            "emulator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--gcs-port",
            "0",
            "--tuning-seconds",
            str(tuning_seconds),
            *extra_args,
        )
        self._process: subprocess.Popen | None = None
        self.env: dict[str, str] = {}

    def start(self) -> EmulatorProcess:
        code = "import sys; from gemini_sft_kfp.cli import main; sys.argv[0] = 'gemini-sft'; main()"
        self._process = subprocess.Popen(
            [sys.executable, "-c", code, *self._args],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        assert self._process.stdout is not None
        while len(self.env) < 2:
            line = self._process.stdout.readline()
            if not line or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the emulator process did not start")
            key, sep, value = line.strip().partition("=")
            if sep and key.endswith("_EMULATOR_HOST"):
                self.env[key] = value
        return self

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def vertex_url(self) -> str:
        return self.env["VERTEX_AI_EMULATOR_HOST"]

    @property
    def gcs_url(self) -> str:
        return self.env["STORAGE_EMULATOR_HOST"]

    def _hook(self, method: str, path: str, **kwargs) -> httpx.Response:
        response = httpx.request(method, f"{self.vertex_url}/emulator/{path}", **kwargs)
        response.raise_for_status()
        return response

    def add_fault(self, method: str, status: int | None = None, **options) -> None:
        """Same arguments as ``Emulator.add_fault``."""
        self._hook("POST", "faults", json={"method": method, "status": status, **options})

    def clear_faults(self) -> None:
        self._hook("DELETE", "faults")

    def requests(self) -> list[dict]:
        return self._hook("GET", "requests").json()

    def reset(self) -> None:
        self._hook("POST", "reset")
