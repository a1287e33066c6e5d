"""Houses match concepts: the product does not import the emulator's code.

The emulator stands in for Google's services; product modules talk to it only over
HTTP, through the real clients. The one exception is starting it: the local run's
backend (``pipelines/local/backend.py``) and ``gemini-sft emulator``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("gemini_sft_kfp", "components", "pipelines")
MAY_START_THE_EMULATOR = {
    "gemini_sft_kfp/__init__.py",
    "gemini_sft_kfp/cli/emulator.py",
    "pipelines/local/backend.py",
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_product_modules_do_not_import_the_emulator():
    offenders = []
    for folder in PRODUCT:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in MAY_START_THE_EMULATOR:
                continue
            emulator = {n for n in _imports(path) if n.startswith("gemini_sft_kfp.emulator")}
            if emulator:
                offenders.append(f"{relative}: {sorted(emulator)}")
    assert not offenders, "\n".join(offenders)
