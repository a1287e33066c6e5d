"""CI (``.ci/run``) runs the test suite exactly as the README tells a user to."""

from __future__ import annotations

import re

from tests.support import REPO


def _readme_test_command() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("Run the test suite:") :]
    return re.search(r"```bash\n(.*?)\n```", section, flags=re.S)[1]


def test_ci_runs_the_readmes_test_command_verbatim():
    command = _readme_test_command()
    assert command.startswith("python3.11 -m venv .venv && ") and "-m pytest" in command
    lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    # CI's interpreter is "$PY" (python3.11, else python3); the rest is the README's line
    assert command.replace("python3.11", '"$PY"', 1) in lines
