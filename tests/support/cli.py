"""The CLI in-process, for fixtures of any scope (``run_cli`` is the per-test form)."""

from __future__ import annotations

import orjson
from typer.testing import CliRunner


def invoke_cli(app, *args: str):
    """``(exit code, parsed --json output or None, text)`` of one in-process command."""
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    data = None
    if "--json" in args and result.stdout.strip().startswith("{"):
        data = orjson.loads(result.stdout)
    return result.exit_code, data, result.stdout
