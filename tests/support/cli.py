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


def main_cli(capsys, *args: str) -> tuple[int, str, str]:
    """``gemini-sft ARGS`` through its real entry point (``main``, which turns user
    mistakes into one line): (exit code, stdout, stderr). An exception escaping ``main``
    is a traceback the user would see: the test fails on it."""
    from gemini_sft_kfp.cli import main

    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str, *words: str) -> None:
    """A user mistake: non-zero exit, one line on stderr naming what is wrong."""
    assert code != 0, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], (word, lines[0])
