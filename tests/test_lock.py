"""constraints.txt is the lock: every dependency of pyproject.toml is pinned there, the pin
satisfies pyproject's range, and the environment under test is the locked one."""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
REGENERATE = "pip-compile --all-extras --strip-extras --output-file constraints.txt pyproject.toml"


def _pins() -> dict[str, str]:
    pins = {}
    for raw in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            name, _, pinned = line.partition("==")
            assert pinned, f"constraints.txt: {raw!r} is not an exact pin"
            pins[canonicalize_name(name)] = pinned.strip()
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        declared += extra
    return [Requirement(r) for r in declared]


def test_lock_satisfies_pyproject():
    pins = _pins()
    problems = []
    for req in _requirements():
        name = canonicalize_name(req.name)
        if name == "gemini-sft-kfp":
            continue
        if name not in pins:
            problems.append(f"{req} is not pinned")
        elif not req.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{req} but the lock pins {pins[name]}")
    assert not problems, f"constraints.txt is out of date ({problems}); run: {REGENERATE}"


def test_tests_run_on_the_locked_versions():
    pins = _pins()
    drifted = []
    for req in _requirements():
        name = canonicalize_name(req.name)
        try:
            installed = version(name)
        except PackageNotFoundError:
            continue
        if name in pins and installed != pins[name]:
            drifted.append(f"{name} {installed} (lock: {pins[name]})")
    assert not drifted, f"installed without the lock: {drifted}; pip install -c constraints.txt"
