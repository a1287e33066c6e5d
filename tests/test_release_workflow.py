"""The release workflow is valid GitHub Actions (schema) and passes zizmor's audits
(pinned actions, least permissions, no template injection), and does what it says."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / ".github" / "workflows" / "release.yml"


def _tool(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.executable).with_name(name))
    if not Path(path).exists():
        pytest.fail(f"{name} is in the dev extra: pip install -c constraints.txt -e '.[dev]'")
    return path


def test_workflow_matches_the_github_actions_schema():
    check = [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows"]
    proc = subprocess.run([*check, str(WORKFLOW)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflow_passes_zizmor():
    proc = subprocess.run(
        [_tool("zizmor"), "--offline", str(WORKFLOW)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_release_tests_pushes_then_compiles_against_the_digest():
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    image_steps = " ".join(str(step) for step in jobs["image"]["steps"])
    assert "tests/containers" in image_steps and "docker push" in image_steps
    assert image_steps.index("tests/containers") < image_steps.index("docker push")
    assert "RepoDigests" in image_steps  # the output is IMAGE@sha256:...
    release = jobs["release"]
    assert release["env"]["IMAGE"] == "${{ needs.image.outputs.image }}"
    steps = " ".join(str(step) for step in release["steps"])
    assert 'gemini-sft compile --image "$IMAGE"' in steps and "release/*.yaml" in steps
