"""The emulator README's start-up recipe, run verbatim in bash: it returns (no hang),
the exported environment reaches the emulator, and ``kill`` stops it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

from tests.support import REPO


def _recipe() -> str:
    text = (REPO / "emulator" / "README.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```bash\n(.*?)```", text, re.S) if "--detach" in b]
    return block


def test_detach_recipe_returns_and_the_emulator_answers_until_killed(tmp_path):
    recipe = _recipe()
    script = recipe + 'echo "PID=$GEMINI_SFT_EMULATOR_PID"\n'
    env = {
        key: value
        for key, value in os.environ.items()
        if "EMULATOR" not in key and not key.startswith("GOOGLE_CLOUD")
    }
    env["PATH"] = f"{os.path.dirname(sys.executable)}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,  # the old recipe (`eval "$(... &)"`) never returned
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "no pipeline jobs" in result.stderr  # `gemini-sft jobs list` reached the emulator
    pid = int(re.search(r"PID=(\d+)", result.stdout)[1])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
        time.sleep(0.2)
    assert not os.path.exists(f"/proc/{pid}"), "kill did not stop the emulator"
    assert (tmp_path / ".emulator" / "emulator.log").is_file()
