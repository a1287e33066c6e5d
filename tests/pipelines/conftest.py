"""``default_run``: one ``gemini-sft run`` with every default on an empty emulator, made
once and shared by the tests that start from it (each used to repeat it: ~20 s a run).

``after_default_run`` (function): ``(exit code, JSON summary)`` of that run, with the
emulator put back exactly as the run left it (``Emulator.snapshot`` / ``restore``), so
what one test does next (a second run, a continuous run) never reaches another. The tests
that use it share one xdist worker (tests/conftest.py groups the users of a package-scoped
fixture).
"""

from __future__ import annotations

import copy

import pytest

from tests.support.cli import invoke_cli


@pytest.fixture(scope="package")
def default_run(emulator, cli_app, tmp_path_factory):
    emulator.reset()
    runs = tmp_path_factory.mktemp("default-run") / "runs"
    code, summary, _ = invoke_cli(cli_app, "run", "--output-dir", str(runs), "--json")
    return code, summary, emulator.snapshot()


@pytest.fixture
def after_default_run(emu, default_run):
    code, summary, state = default_run
    emu.restore(state)
    return code, copy.deepcopy(summary)
