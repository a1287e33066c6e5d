"""Fixtures of the pipeline tests: the CLI in-process, local runs into tmp_path."""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner


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
