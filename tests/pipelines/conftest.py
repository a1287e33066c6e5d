"""Helpers for the pipeline tests: run the CLI in-process, check the registry."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

import components

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "data"


def all_components_present() -> bool:
    try:
        for name in components.COMPONENT_NAMES:
            components.load(name)
    except ImportError:
        return False
    return True


needs_components = pytest.mark.skipif(
    not all_components_present(), reason="a component of the pipeline is not in the tree yet"
)


@pytest.fixture(scope="session")
def cli_app():
    """The ``gemini-sft`` typer app with every command group registered (once)."""
    from pipelines.cli import _register_all, app

    _register_all()
    return app


@pytest.fixture
def run_cli(cli_app, tmp_path):
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


def model_version(name: str):
    """The registry's view of ``projects/../models/ID@V`` (None when deleted)."""
    from components._common.registry import Registry

    registry = Registry("local-project", "us-central1")
    return registry.get(registry.ref(name))
