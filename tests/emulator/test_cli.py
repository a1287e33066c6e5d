"""``gemini-sft emulator`` in a subprocess: prints the env, serves, stops cleanly on signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import orjson
import pytest
import urllib3
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT

CLI = [sys.executable, "-c", "from gemini_sft_kfp.cli import main; main()", "emulator"]
PRINTED = (
    "VERTEX_AI_EMULATOR_HOST",
    "STORAGE_EMULATOR_HOST",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GCE_METADATA_HOST",
    "GCE_METADATA_IP",
    "HTTPS_PROXY",
    "SSL_CERT_FILE",
    "NO_PROXY",
)
PRINTED_LINES = len(PRINTED)


def _start(*args: str) -> tuple[subprocess.Popen, dict[str, str]]:
    process = subprocess.Popen(
        [*CLI, "--port", "0", "--gcs-port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    env = {}
    for _ in range(PRINTED_LINES):
        key, _, value = process.stdout.readline().strip().partition("=")
        env[key] = value
    return process, env


def _stop(process: subprocess.Popen, signum: int) -> str:
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0, stderr
    return stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_prints_env_serves_and_stops_on_signal(signum):
    process, env = _start(
        "--tuning-seconds", "0.5", "--max-running-jobs", "1", "--no-run-pipelines", "--strict"
    )
    try:
        assert env["VERTEX_AI_EMULATOR_HOST"].startswith("http://127.0.0.1:")
        assert env["STORAGE_EMULATOR_HOST"].startswith("http://127.0.0.1:")
        http = urllib3.PoolManager()
        parent = f"projects/{DEFAULT_PROJECT}/locations/{DEFAULT_LOCATION}"
        listing = http.request("GET", f"{env['VERTEX_AI_EMULATOR_HOST']}/v1/{parent}/tuningJobs")
        assert listing.status == 200 and orjson.loads(listing.data) == {}
        buckets = http.request("GET", f"{env['STORAGE_EMULATOR_HOST']}/storage/v1/b?project=p")
        assert buckets.status == 200
    finally:
        stderr = _stop(process, signum)
    assert "emulator stopped" in stderr and "Traceback" not in stderr


def test_busy_port_is_a_one_line_error():
    process, env = _start()
    try:
        port = env["VERTEX_AI_EMULATOR_HOST"].rsplit(":", 1)[1]
        clash = subprocess.run(
            [*CLI, "--port", port, "--gcs-port", "0"], capture_output=True, text=True, timeout=30
        )
        assert clash.returncode == 1
        assert "Traceback" not in clash.stderr and "--port" in clash.stderr
    finally:
        _stop(process, signal.SIGTERM)


def test_state_dir_survives_restart(tmp_path):
    http = urllib3.PoolManager()
    process, env = _start("--state-dir", str(tmp_path), "--tuning-seconds", "0")
    gcs, vertex = env["STORAGE_EMULATOR_HOST"], env["VERTEX_AI_EMULATOR_HOST"]
    parent = f"projects/{DEFAULT_PROJECT}/locations/{DEFAULT_LOCATION}"
    try:
        http.request(
            "POST",
            f"{gcs}/storage/v1/b?project=p",
            body=orjson.dumps({"name": "keep"}),
            headers={"Content-Type": "application/json"},
        )
        line = orjson.dumps(
            {
                "contents": [
                    {"role": "user", "parts": [{"text": "hi"}]},
                    {"role": "model", "parts": [{"text": "queue: x"}]},
                ]
            }
        )
        upload = http.request(
            "POST", f"{gcs}/upload/storage/v1/b/keep/o?uploadType=media&name=t.jsonl", body=line
        )
        assert upload.status == 200
        body = {
            "baseModel": "gemini-2.5-flash",
            "supervisedTuningSpec": {"trainingDatasetUri": "gs://keep/t.jsonl"},
        }
        created = orjson.loads(
            http.request("POST", f"{vertex}/v1/{parent}/tuningJobs", body=orjson.dumps(body)).data
        )
    finally:
        _stop(process, signal.SIGTERM)
    process, env = _start("--state-dir", str(tmp_path))
    try:
        vertex, gcs = env["VERTEX_AI_EMULATOR_HOST"], env["STORAGE_EMULATOR_HOST"]
        job = orjson.loads(http.request("GET", f"{vertex}/v1/{created['name']}").data)
        assert job["state"] == "JOB_STATE_SUCCEEDED"
        endpoint = job["tunedModel"]["endpoint"]
        request = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
        answer = http.request(
            "POST", f"{vertex}/v1/{endpoint}:generateContent", body=orjson.dumps(request)
        )
        assert (
            orjson.loads(answer.data)["candidates"][0]["content"]["parts"][0]["text"] == "queue: x"
        )
        assert http.request("GET", f"{gcs}/storage/v1/b/keep/o/t.jsonl").status == 200
    finally:
        _stop(process, signal.SIGTERM)


def test_corrupt_state_file_is_a_one_line_error(tmp_path):
    (tmp_path / "vertex.json").write_text("{not json")
    result = subprocess.run(
        [*CLI, "--port", "0", "--gcs-port", "0", "--state-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "vertex.json" in result.stderr and "Traceback" not in result.stderr


_GOOGLE_CODE = """
import google.auth
from google import genai
from google.genai.types import HttpOptions

credentials, project = google.auth.default()
print(type(credentials).__module__, project)
client = genai.Client(http_options=HttpOptions(api_version="v1"))
print(client.models.count_tokens(model="gemini-2.5-flash", contents="hi there").total_tokens)
print(next(iter(client.tunings.list()), None))
"""


def test_printed_environment_alone_serves_unmodified_google_code():
    """ADC from the loopback metadata server, google-genai through the Vertex proxy."""
    process, env = _start("--no-run-pipelines")
    try:
        assert list(env) == list(PRINTED)
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE", "GCE_"))}
        for key in ("VERTEX_AI_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "HTTPS_PROXY"):
            clean.pop(key, None)
        run = subprocess.run(
            [sys.executable, "-c", _GOOGLE_CODE],
            env=clean | env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        lines = run.stdout.splitlines()
        assert lines[0] == f"google.auth.compute_engine.credentials {DEFAULT_PROJECT}"
        assert lines[1] == "2" and lines[2] == "None"
    finally:
        _stop(process, signal.SIGTERM)


def test_bad_project_number_option_is_a_one_line_error():
    result = subprocess.run(
        [*CLI, "--port", "0", "--gcs-port", "0", "--project-number", "p=abc"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1 and "ID=NUMBER" in result.stderr
    assert "Traceback" not in result.stderr
