"""The CLI registers every command at start-up: none may pull in a heavy SDK.

kfp (with the kubernetes client) is ~60 MB and most of a second; a command that needs
it (compile, run, image build) imports it when it runs.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("kfp", "kubernetes", "google.cloud.aiplatform", "google.cloud.storage", "google.genai")


def test_registering_every_command_imports_no_sdk():
    code = (
        "import sys\n"
        "from gemini_sft_kfp.cli import _register_all\n"
        "_register_all()\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
