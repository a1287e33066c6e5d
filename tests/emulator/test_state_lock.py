"""One writer per emulator state directory, state written atomically (issue 14, section 3).

Before: two emulators on one ``--state-dir`` both served, each with its own copy in
memory; the last save won and the other's jobs and models were lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import orjson
import pytest
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT, Emulator
from gemini_sft_kfp.emulator.common.state_lock import OWNER_FILE, StateDirInUse
from gemini_sft_kfp.emulator.common.store import Store
from gemini_sft_kfp.pipelines.local.backend import local_backend

from gemini_sft_kfp.core.clients import VERTEX_EMULATOR_ENV

PARENT = f"projects/{DEFAULT_PROJECT}/locations/{DEFAULT_LOCATION}"
CLI = [sys.executable, "-c", "from gemini_sft_kfp.cli import main; main()", "emulator"]


@pytest.fixture
def no_emulator_env(monkeypatch):
    monkeypatch.delenv("VERTEX_AI_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)


def _job_count(vertex_url: str) -> int:
    listed = httpx.get(f"{vertex_url}/v1/{PARENT}/schedules", timeout=60)
    return len(listed.json().get("schedules", []))


def _make_schedule(vertex_url: str) -> None:
    body = {
        "cron": "0 3 * * *",
        "maxConcurrentRunCount": 1,
        "createPipelineJobRequest": {"pipelineJob": {"displayName": "x"}},
    }
    created = httpx.post(f"{vertex_url}/v1/{PARENT}/schedules", json=body, timeout=60)
    assert created.status_code == 200, created.text


def test_a_second_emulator_on_the_same_state_dir_is_refused(tmp_path):
    with Emulator(state_dir=tmp_path) as first:
        _make_schedule(first.vertex_url)
        with pytest.raises(StateDirInUse) as refused:
            Emulator(state_dir=tmp_path)
        assert refused.value.owner["pid"] == os.getpid()
        assert refused.value.owner["vertex_url"] == first.vertex_url
        assert first.vertex_url in str(refused.value)
    assert not (tmp_path / OWNER_FILE).exists()
    with Emulator(state_dir=tmp_path) as second:  # free again once the owner stopped
        assert _job_count(second.vertex_url) == 1


def test_cli_emulator_on_a_busy_state_dir_is_a_one_line_error(tmp_path):
    with Emulator(state_dir=tmp_path):
        clash = subprocess.run(
            [*CLI, "--port", "0", "--gcs-port", "0", "--state-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert clash.returncode == 1
    assert "Traceback" not in clash.stderr
    assert "in use" in clash.stderr and str(os.getpid()) in clash.stderr


def test_kill_9_of_the_owner_frees_the_state_dir(tmp_path):
    process = subprocess.Popen(
        [*CLI, "--port", "0", "--gcs-port", "0", "--state-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        vertex = process.stdout.readline().strip().partition("=")[2]
        _make_schedule(vertex)
        with pytest.raises(StateDirInUse):
            Emulator(state_dir=tmp_path)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    with Emulator(state_dir=tmp_path) as after:  # the kernel dropped the lock
        assert _job_count(after.vertex_url) == 1


def test_a_run_joins_a_standalone_emulator_on_its_state_dir(tmp_path, no_emulator_env):
    with Emulator(state_dir=tmp_path, joinable=True) as standalone:
        with local_backend(use_cloud=False, tuning_seconds=0.1, state_dir=tmp_path) as backend:
            assert backend.vertex_url == standalone.vertex_url
            assert os.environ[VERTEX_EMULATOR_ENV] == standalone.vertex_url
            assert backend.simulated
        assert VERTEX_EMULATOR_ENV not in os.environ


def test_a_run_waits_for_another_runs_emulator_then_keeps_both_records(
    tmp_path, no_emulator_env, capfd
):
    first = Emulator(state_dir=tmp_path).start()  # another run's in-process emulator
    _make_schedule(first.vertex_url)
    threading.Timer(1.0, first.stop).start()
    started = time.monotonic()
    with local_backend(use_cloud=False, tuning_seconds=0.1, state_dir=tmp_path) as backend:
        waited = time.monotonic() - started
        assert backend.vertex_url != first.vertex_url
        _make_schedule(backend.vertex_url)
        assert _job_count(backend.vertex_url) == 2  # the first run's record is still there
    assert waited >= 0.9
    assert "waiting for process" in capfd.readouterr().err
    saved = orjson.loads((tmp_path / "vertex.json").read_bytes())
    assert len(saved["collections"]["schedules"]) == 2


def test_state_is_written_atomically(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.table("schedules")["1"] = {"name": "one"}
    store.save()
    before = (tmp_path / "vertex.json").read_bytes()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    store.table("schedules")["2"] = {"name": "two"}
    with pytest.raises(OSError, match="disk full"):
        store.save()
    assert (tmp_path / "vertex.json").read_bytes() == before  # never half-written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vertex.json"]  # no temp left
