"""Container tests: the component image, built from this checkout, run by Docker.

They need a Docker engine. Without one they are skipped with a loud reason, except on
CI (``CI=true``), where a missing engine fails them: CI must prove the container path.
``GEMINI_SFT_TEST_IMAGE`` names an image already built from this checkout (``.ci/run``
builds it first); otherwise the session builds it (cached layers: quick when unchanged).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.support import REPO

GRACE_SECONDS = 10  # `docker stop`'s default; Kubernetes gives 30


def _no_docker(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"container tests must run on CI, but {reason}")
    pytest.skip(f"CONTAINER TESTS SKIPPED: {reason} (run ../shared/tools/docker-up.sh)")


@pytest.fixture(scope="session")
def docker_client():
    if shutil.which("docker") is None:
        _no_docker("docker is not installed")
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception as exc:
        _no_docker(f"no Docker engine answers ({exc})")
    return client


@pytest.fixture(scope="session")
def image(docker_client) -> str:
    given = os.environ.get("GEMINI_SFT_TEST_IMAGE")
    if given:
        docker_client.images.get(given)  # fails loudly when it is not there
        return given
    from gemini_sft_kfp.runtime.image import local_image

    tag = local_image()
    build = subprocess.run(
        ["docker", "build", "--quiet", "--tag", tag, str(REPO)], capture_output=True, text=True
    )
    assert build.returncode == 0, build.stderr[-3000:]
    return tag


@pytest.fixture(scope="module")
def slow_emulator() -> Iterator:
    """An emulator whose jobs train for 10 minutes (so a task can be stopped mid-wait),
    its variables in os.environ: the containers get them through the runner."""
    from gemini_sft_kfp.emulator import Emulator

    with Emulator(tuning_seconds=600) as running, pytest.MonkeyPatch.context() as env:
        for key, value in running.env.items():  # restored when the emulator stops
            env.setenv(key, value)
        yield running


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
