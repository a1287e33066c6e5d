"""The wheel a user installs: one top-level name, beside a user's own components/ and
pipelines/ packages, in a fresh venv, with `gemini-sft run` working from their root."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import orjson
import pytest

from tests.support import REPO

# The user's packages shout if anything imports them: a task that picked up the user's
# folder would leave this marker behind.
USER_PACKAGE = """
import os, pathlib
marker = os.environ.get("USER_PACKAGE_MARKER")
if marker and os.environ.get("GEMINI_SFT_CHECKING_USER_IMPORTS") != "1":
    pathlib.Path(marker).write_text(__name__)
validate_dataset = "the user's {name}.validate_dataset"
"""

CHECK_IMPORTS = """
import components, pipelines
from gemini_sft_kfp.components import validate_dataset, ValidateDatasetOp
from gemini_sft_kfp.pipelines import sft_pipeline
import gemini_sft_kfp
assert components.validate_dataset == "the user's components.validate_dataset"
assert pipelines.validate_dataset == "the user's pipelines.validate_dataset"
assert validate_dataset is ValidateDatasetOp and validate_dataset.name == "validate-dataset"
assert sft_pipeline.name == "gemini-sft", sft_pipeline.name
assert "site-packages" in gemini_sft_kfp.__file__, gemini_sft_kfp.__file__
print("ok")
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # Build from a copy: setuptools writes build/ and *.egg-info beside the sources, which
    # would race with a parallel test worker and litter the checkout.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for name in ("gemini_sft_kfp", "components", "pipelines", "emulator"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(out), str(source)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    (built,) = out.glob("gemini_sft_kfp-*.whl")
    return built


def test_wheel_installs_one_top_level_name(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = {name.split("/", 1)[0] for name in archive.namelist()}
        top_level = {n for n in names if not n.endswith((".dist-info", ".data"))}
        assert top_level == {"gemini_sft_kfp"}, top_level
        files = archive.namelist()
    for expected in (
        "gemini_sft_kfp/core/models.json",
        "gemini_sft_kfp/components/validate_dataset/component.py",
        "gemini_sft_kfp/pipelines/sft.py",
        "gemini_sft_kfp/emulator/server.py",
        "gemini_sft_kfp/cli/__init__.py",
    ):
        assert expected in files, expected
    source_packages = {
        str(p.parent.relative_to(REPO))
        for root in ("gemini_sft_kfp", "components", "pipelines", "emulator")
        for p in (REPO / root).rglob("__init__.py")
    }
    assert len({f.rsplit("/", 1)[0] for f in files if f.endswith("/__init__.py")}) == len(
        source_packages
    ), "a package folder is missing from pyproject's package list"


@pytest.fixture(scope="module")
def user_project(tmp_path_factory, wheel) -> tuple[Path, Path]:
    """A fresh venv with our wheel (dependencies borrowed from this environment) and a
    user project with its own ``components`` and ``pipelines`` packages."""
    root = tmp_path_factory.mktemp("user")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    # Dependencies from this environment, appended after the venv's own site-packages; a
    # plain path line does not activate this environment's editable install of ours.
    Path(site, "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         str(wheel)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    project = root / "project"
    for name in ("components", "pipelines"):
        (project / name).mkdir(parents=True)
        (project / name / "__init__.py").write_text(USER_PACKAGE.format(name=name))
    return venv, project


def _env(project: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["USER_PACKAGE_MARKER"] = str(project / "imported-by-a-task")
    return env


def test_user_packages_and_ours_both_resolve(user_project):
    venv, project = user_project
    env = {**_env(project), "GEMINI_SFT_CHECKING_USER_IMPORTS": "1"}
    result = subprocess.run(
        [venv / "bin" / "python", "-c", CHECK_IMPORTS],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.e2e
def test_gemini_sft_run_from_the_user_project_root(user_project, emulator):
    venv, project = user_project
    result = subprocess.run(
        [venv / "bin" / "gemini-sft", "run", "--json", "--output-dir", str(project / "runs"),
         "--train", str(REPO / "examples" / "data" / "train.jsonl"),
         "--eval", str(REPO / "examples" / "data" / "eval.jsonl")],
        cwd=project, env=_env(project), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = orjson.loads(result.stdout)
    assert summary["succeeded"] and summary["verdict"] == "promoted", summary
    marker = project / "imported-by-a-task"
    assert not marker.exists(), f"a task imported the user's {marker.read_text()} package"
