"""Every ``--json`` prints exactly one JSON document on stdout, in a real process.

In-process (CliRunner) the aiplatform SDK's log handlers keep the stdout they were
created with, so its "Creating PipelineJob" / console-link lines never reach the
captured output; only a fresh process shows what a user's ``| jq`` sees.
"""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest

from tests.support.model_helpers import tuned_versions
from tests.support.pipeline_helpers import CLOUD_OPTIONS, SAMPLE, needs_components

pytestmark = [needs_components, pytest.mark.slow]
CLI = [sys.executable, "-c", "from gemini_sft_kfp.cli import main; main()"]


def _json(*args: str) -> dict:
    result = subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=180, env=dict(os.environ)
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "console.cloud.google.com" not in result.stdout + result.stderr  # the emulator
    return orjson.loads(result.stdout)  # fails on any line before or after the document


@pytest.mark.e2e
def test_every_json_output_parses(emu, tmp_path):
    job = _json("submit", *CLOUD_OPTIONS, "--json")["pipeline_job"]
    schedule = _json(
        "schedule", "--cron", "0 3 * * *", *CLOUD_OPTIONS, "--pipeline", "sft", "--json"
    )["schedule"]
    assert _json("jobs", "list", "--json")["pipeline_jobs"][0]["name"] == job
    assert _json("jobs", "list", "--schedules", "--json")["schedules"][0]["name"] == schedule
    assert _json("jobs", "get", job, "--json")["name"] == job
    assert _json("jobs", "logs", job, "--json")["name"] == job
    assert _json("jobs", "cancel", job, "--json")["name"] == job
    [version] = tuned_versions(1)
    [row] = _json("models", "list", "--json")["versions"]
    endpoint = row["endpoints"][0]
    evaluated = _json(
        "evaluate",
        "--endpoint",
        endpoint,
        "--data",
        str(SAMPLE / "eval.jsonl"),
        "--max-examples",
        "3",
        "--json",
        "--quiet",
    )
    assert evaluated["examples"] == 3
    assert _json("validate", str(SAMPLE / "train.jsonl"), "--json")["files"]
    assert version.split("@")[0].rsplit("/", 1)[-1] in str(row)
