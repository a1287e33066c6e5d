"""The component image's inputs stay consistent with the package."""

from __future__ import annotations

import re
import tomllib

import yaml

from tests.support.pipeline_helpers import REPO


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_every_runtime_dependency_is_pinned_for_the_image():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = {
        _name(line): line.split("==", 1)[1]
        for line in (REPO / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    missing = [d for d in project["dependencies"] if _name(d) not in pins]
    assert not missing, f"add to constraints.txt (pip freeze): {missing}"


def test_dockerfile_installs_pins_then_package_as_non_root():
    text = (REPO / "Dockerfile").read_text()
    assert "pip install -c constraints.txt -r requirements.txt" in text
    assert "pip install --no-deps ." in text
    assert re.search(r"^USER \$\{USER_ID\}$", text, flags=re.M)
    assert "ARG USER_ID=10001" in text
    assert text.index("constraints.txt") < text.index("COPY components")  # cached layer


def test_cloudbuild_builds_tests_and_pushes_the_image():
    build = yaml.safe_load((REPO / "cloudbuild.yaml").read_text())
    image = "${_IMAGE}:${_TAG}"
    assert build["images"] == [image]
    steps = {step["id"]: step for step in build["steps"]}
    assert image in steps["build"]["args"]
    assert image in steps["smoke-test"]["args"]
    assert f"--image={image}" in steps["compile"]["args"]
