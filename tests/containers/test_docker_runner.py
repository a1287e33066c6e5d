"""`gemini-sft run --runner docker`: the whole pipeline, every task in the image."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.support import REPO

pytestmark = pytest.mark.containers


def test_sft_pipeline_runs_every_task_in_the_image(image, tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VERTEX_AI_EMULATOR_HOST", "STORAGE_EMULATOR_HOST")
    }  # the run starts its own emulator, reached from the containers over host networking
    out = tmp_path / "runs"
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "gemini-sft"), "run", "--runner", "docker",
         "--image", image, "--output-dir", str(out), "--tuning-seconds", "1", "--json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    summary = orjson.loads(proc.stdout)
    assert summary["succeeded"] and summary["verdict"].startswith("promoted")
    assert f"in Docker (image {image})" in " ".join(proc.stderr.split())  # wrapped at 80
    log = next(out.glob("*/run.log")).read_text()
    assert log.count(f"Found image '{image}'") >= 8  # every task: DockerRunner, this image
    # the tasks ran the installed package, and as the invoking user (not the image's 10001)
    owners = {p.stat().st_uid for p in next(out.glob("*/run.log")).parent.rglob("*")}
    assert owners == {os.getuid()}


def test_a_task_runs_as_any_uid_on_a_root_that_uid_owns(docker_client, image, tmp_path):
    """A laptop user's uid is not the image's 10001: DockerRunner runs the task as that
    uid (HOME=/tmp), on a pipeline root only that uid may write."""
    from gemini_sft_kfp.components import validate_dataset
    from gemini_sft_kfp.pipelines.local.docker_runner import runner_arguments
    from kfp import local

    uid = 4321
    root = tmp_path / "root"
    root.mkdir(mode=0o700)
    data = REPO / "examples" / "data" / "train.jsonl"
    if os.getuid() == 0:
        os.chown(root, uid, uid)
    arguments = runner_arguments([str(data)], emulated=True)
    arguments["user"] = f"{uid}:{uid}" if os.getuid() == 0 else arguments["user"]
    local.init(runner=local.DockerRunner(**arguments), pipeline_root=str(root))
    container = validate_dataset.component_spec.implementation.container
    default_image, container.image = container.image, image
    try:
        task = validate_dataset(training_data=str(data), model="gemini-2.5-flash")
    finally:
        container.image = default_image
    assert task.outputs["metrics"].metadata["examples"] > 0
    written = [p for p in root.rglob("*") if p.is_file()]
    assert written and {p.stat().st_uid for p in written} == {int(arguments["user"].split(":")[0])}
