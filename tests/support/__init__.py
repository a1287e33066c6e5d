"""Fakes and helpers shared by the test packages; ``REPO`` is the repository root."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES_DATA = REPO / "examples" / "data"
