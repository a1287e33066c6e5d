"""``gemini-sft run --runner docker``: every task in the component image, as on Vertex.

KFP's ``DockerRunner`` runs each task in a container with the pipeline root mounted at
the same path. What it needs from us, and why:
- ``user``: the invoking uid:gid. The runner creates the task directories as this user;
  the image's own non-root user (10001) could not write them (``PermissionError``).
  ``HOME=/tmp`` because that uid has no home in the image.
- ``network_mode=host``: the emulator (or anything else on 127.0.0.1) stays reachable.
- the local data files, mounted read-only at their own paths (tasks get absolute paths),
  and Application Default Credentials, when a file holds them, for runs on the cloud.
- the image: every executor of the pipeline is pointed at ``image`` for the run.
- ``labels``: the run's output directory and process id, so its containers can be
  stopped with it, and ended by the next run if the CLI died (``docker_tasks.py``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gemini_sft_kfp.core.clients import STORAGE_EMULATOR_ENV, VERTEX_EMULATOR_ENV
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.jobs.identity import RESUME_KEY_ENV

# Passed from this process to the containers when set.
FORWARDED_ENV = (
    VERTEX_EMULATOR_ENV,
    STORAGE_EMULATOR_ENV,
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "VERTEX_AI_PIPELINES_RUN_LABELS",
    RESUME_KEY_ENV,  # a rerun resuming a dead run's job (local_resume.py)
)
CONTAINER_ADC = "/tmp/gemini-sft-adc.json"


def _adc_file() -> Path | None:
    explicit = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if explicit:
        return Path(explicit)
    default = Path.home() / ".config" / "gcloud" / "application_default_credentials.json"
    return default if default.is_file() else None


def runner_arguments(
    data_files: list[str], *, emulated: bool, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """``DockerRunner`` keyword arguments (``docker.containers.run`` arguments)."""
    from docker.types import Mount

    environment = {key: os.environ[key] for key in FORWARDED_ENV if os.environ.get(key)}
    environment["HOME"] = "/tmp"
    mounts = [
        Mount(target=path, source=path, type="bind", read_only=True)
        for path in sorted(set(data_files))
        if path and Path(path).exists()
    ]
    adc = None if emulated else _adc_file()
    if adc is not None and adc.is_file():
        mounts.append(Mount(target=CONTAINER_ADC, source=str(adc), type="bind", read_only=True))
        environment["GOOGLE_APPLICATION_CREDENTIALS"] = CONTAINER_ADC
    arguments = {
        "user": f"{os.getuid()}:{os.getgid()}",
        "network_mode": "host",
        "environment": environment,
        "mounts": mounts,
    }
    if labels:
        arguments["labels"] = dict(labels)
    return arguments


def docker_runner(data_files: list[str], *, emulated: bool, labels: dict[str, str] | None = None):
    """A ``kfp.local.DockerRunner`` for this machine (UserError when Docker is missing)."""
    try:
        import docker
        from kfp import local
    except ImportError:
        raise UserError(
            "--runner docker needs the Docker SDK: pip install 'gemini-sft-kfp[docker]'",
            field="runner",
        ) from None
    try:
        docker.from_env().ping()
    except Exception as exc:
        raise UserError(
            f"--runner docker: no Docker engine answers ({exc}); start Docker or use the "
            "default runner",
            field="runner",
        ) from None
    return local.DockerRunner(**runner_arguments(data_files, emulated=emulated, labels=labels))


def check_image(image: str) -> None:
    """The image must be on this machine: there is no registry to pull from here, and a
    pull would hide that the image is stale."""
    import docker

    try:
        docker.from_env().images.get(image)
    except docker.errors.ImageNotFound:
        raise UserError(
            f"image {image} is not on this machine: build it with `gemini-sft image build "
            f"--tag {image}` (or docker pull it)",
            field="image",
        ) from None


@contextlib.contextmanager
def executor_images(pipeline_func, image: str) -> Iterator[None]:
    """Point every executor of ours (``runtime.image.task_command``) in ``pipeline_func`` at
    ``image`` for the duration; a user's own components keep the image they name."""
    from gemini_sft_kfp.runtime.image import TASK_SHELL

    executors = pipeline_func.pipeline_spec.deployment_spec["executors"]
    saved = {}
    for name, executor in executors.items():
        if "container" not in executor:  # a protobuf Struct: no .get()
            continue
        container = executor["container"]
        command = list(container["command"]) if "command" in container else []
        if command[:3] == ["sh", "-ec", TASK_SHELL]:
            saved[name] = executor["container"]["image"]
            executor["container"]["image"] = image
    try:
        yield
    finally:
        for name, old in saved.items():
            executors[name]["container"]["image"] = old
