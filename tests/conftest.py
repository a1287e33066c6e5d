"""Shared fixtures. The tree mirrors the source: tests/components/<name>/, tests/core/,
tests/pipelines/, tests/emulator/, tests/cli/; shared fakes live in tests/support/.

``emulator`` (session): the running Vertex AI + Cloud Storage emulator; its ``env`` is
set in ``os.environ`` for the session so every client the project builds talks to it.
``emu`` (function): the same handle after ``reset()``: no jobs, models, buckets or faults.
``tiny_model``: a model table with tiny caps. ``no_retry_sleep``: the shared retry
policy without its real sleeps. ``cli_app`` / ``run_cli`` / ``local_run``: the CLI
in-process and local runs into tmp_path.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from typer.testing import CliRunner

from gemini_sft_kfp.core import models, retry

TEST_TUNING_SECONDS = 1.0


@pytest.fixture(scope="session")
def emulator() -> Iterator:
    from gemini_sft_kfp.emulator import Emulator

    # strict: every response body is checked against the aiplatform protos (500 if not)
    with (
        Emulator(tuning_seconds=TEST_TUNING_SECONDS, strict=True) as running,
        pytest.MonkeyPatch.context() as env,
    ):
        for key, value in running.env.items():  # restored when the emulator stops
            env.setenv(key, value)
        yield running


@pytest.fixture
def emu(emulator) -> Iterator:
    emulator.reset()
    yield emulator
    emulator.clear_faults()


@pytest.fixture
def tiny_model(tmp_path, monkeypatch):
    """A model-table entry with tiny caps, proving limits come from the table."""
    table = {
        "models": [
            {
                "id": "tiny-model",
                "family": "tiny",
                "max_example_tokens": 50,
                "adapter_sizes": [1],
                "max_validation_examples": 3,
                "max_training_examples_text": 20,
                "max_training_examples_multimodal": 5,
                "max_file_bytes": 4000,
                "tokenizer": "gemma3",
                "thinking": False,
                "supported": True,
            }
        ]
    }
    path = tmp_path / "table.json"
    path.write_bytes(orjson.dumps(table))
    monkeypatch.setenv("GEMINI_SFT_MODEL_TABLE", str(path))
    models.model_table.cache_clear()
    yield "tiny-model"
    models.model_table.cache_clear()


@pytest.fixture
def no_retry_sleep(monkeypatch):
    """Keep the shared retry policy, minus its real sleeps."""
    real = retry.retrying

    def fast(**kwargs):
        policy = real(**kwargs)
        policy.sleep = lambda seconds: None
        return policy

    monkeypatch.setattr(retry, "retrying", fast)  # cloud_job calls it through the module
    monkeypatch.setattr("gemini_sft_kfp.core.storage.retrying", fast)
    monkeypatch.setattr("gemini_sft_kfp.jobs.runner.CREATE_BACKOFF_SECONDS", (0.01, 0.05))
    monkeypatch.setattr("gemini_sft_kfp.jobs.runner.QUOTA_BACKOFF_SECONDS", (0.01, 0.05))


@pytest.fixture(scope="session")
def cli_app():
    """The ``gemini-sft`` typer app with every command group registered (once)."""
    from gemini_sft_kfp.cli import _register_all, app

    _register_all()
    return app


@pytest.fixture
def run_cli(cli_app):
    """``run_cli(*args) -> (exit_code, parsed --json output or None, text)``."""

    def invoke(*args: str):
        result = CliRunner().invoke(cli_app, list(args), catch_exceptions=False)
        data = None
        if "--json" in args and result.stdout.strip().startswith("{"):
            data = orjson.loads(result.stdout)
        return result.exit_code, data, result.stdout

    return invoke


@pytest.fixture
def local_run(run_cli, tmp_path):
    """``gemini-sft run --json`` into tmp_path on the session emulator (env already set)."""

    def invoke(*args: str):
        return run_cli("run", "--output-dir", str(tmp_path / "runs"), "--json", *args)

    return invoke
