"""Project numbers: the service names every resource ``projects/<number>/...`` whatever
form (id or number) the request used, as Google's samples' expected output shows.

Each project id gets a stable 12-digit number (the default project gets the number the
Cloud Storage emulator reports, ``123456789012``); ``Emulator(project_numbers=...)`` or
``gemini-sft emulator --project-number ID=NUMBER`` pins others.
"""

from __future__ import annotations

import hashlib
import re

from gemini_sft_kfp.core.clients import EMULATOR_PROJECT_NUMBER
from gemini_sft_kfp.core.project import EMULATOR_PROJECT

# The product's default (``gemini_sft_kfp.core.project``), so a run with none given lands here.
DEFAULT_PROJECT = EMULATOR_PROJECT
_NAME = re.compile(r"^projects/([^/]+)/")


def derived_number(project_id: str) -> str:
    """A stable 12-digit number for ``project_id`` (no leading zero)."""
    digest = int(hashlib.sha256(project_id.encode()).hexdigest(), 16)
    return str(10**11 + digest % (9 * 10**11))


class ProjectNumbers:
    """Maps project ids to numbers; a number maps to itself."""

    def __init__(self, pinned: dict[str, str] | None = None) -> None:
        self._pinned = {DEFAULT_PROJECT: EMULATOR_PROJECT_NUMBER, **(pinned or {})}
        for project_id, number in self._pinned.items():
            if not (str(number).isascii() and str(number).isdigit()):
                raise ValueError(f"project number for {project_id!r} must be digits: {number!r}")

    def number(self, project: str) -> str:
        if project.isdigit():
            return project
        return str(self._pinned.get(project) or derived_number(project))

    def canonical(self, name: str) -> str:
        """``projects/<id>/...`` -> ``projects/<number>/...`` (other names unchanged)."""
        match = _NAME.match(name or "")
        if not match:
            return name
        return f"projects/{self.number(match.group(1))}/{name[match.end() :]}"
