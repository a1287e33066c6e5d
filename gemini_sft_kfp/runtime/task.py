"""What every pipeline task runs first: the component from the installed package, with
the stop handler installed (SIGTERM raises ``jobs.stop.Terminated``: Python is the
container's PID 1, see ``jobs/stop.py``) and, under a local run, death with that run.

``load`` is what the compiled YAML's few-line program calls (see ``image.py``): the
code lives in the image, not pasted into the YAML.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from gemini_sft_kfp.core.processes import process_alive
from gemini_sft_kfp.jobs.stop import Terminated, exit_on_sigterm

log = logging.getLogger(__name__)


LOCAL_RUN_ENV = "GEMINI_SFT_LOCAL_RUN"
"""``<pid>:<output dir>`` of the ``gemini-sft run`` whose subprocess runner started this
task (set by ``pipelines/local/resume.py``; never in a container or on Vertex)."""
_PR_SET_PDEATHSIG = 1


def local_run_value(pid: int, output_dir: str) -> str:
    """``LOCAL_RUN_ENV``'s value for the run ``pid`` writing to ``output_dir``."""
    return f"{pid}:{output_dir}"


def parse_local_run(value: str) -> tuple[int, str]:
    """(run pid, output dir) of a ``LOCAL_RUN_ENV`` value; (0, "") for anything else."""
    pid, _, output_dir = value.partition(":")
    return (int(pid), output_dir) if pid.isdigit() else (0, "")


def local_run_pid(environ: dict[str, str] | None = None) -> int:
    """The pid of the local run that started this task as its child (0: none)."""
    return parse_local_run((os.environ if environ is None else environ).get(LOCAL_RUN_ENV, ""))[0]


def die_with_parent() -> None:
    """A task of a local run dies with that run (``kill -9``, a crash): Linux
    ``PR_SET_PDEATHSIG`` with SIGKILL.

    A run that dies hard is a crash, whichever of its processes the signal reached: its
    tasks end the way a ``kill -9`` of the whole process group ends them, with no
    clean-up, so a tuning job it started (or whose create was in flight: the
    ``jobs.runner.creating_marker`` outlives the task) runs on and the rerun resumes it
    (``pipelines/local/resume.py``): one job per logical run. Before, an orphaned launch
    cancelled the job its create made and the rerun trained a second one; an orphaned
    wait cancelled the job the rerun would have resumed. An orderly stop (Ctrl-C,
    SIGTERM to the run) is unchanged: the run forwards SIGTERM and waits while each task
    cancels what it owns.
    """
    parent = local_run_pid()
    if not parent or not sys.platform.startswith("linux"):
        return
    if os.getppid() != parent:  # started by someone else (who inherited the variable)
        if process_alive(parent):
            return
        raise Terminated(signal.SIGTERM)  # the run died before this task got going
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before the request took effect
        raise Terminated(signal.SIGTERM)


def load(name: str, compiled_with: str = "") -> Callable[..., Any]:
    """The component function ``name`` from the installed package, for KFP's executor.

    Installs the SIGTERM handler first. ``compiled_with`` is the package version the
    pipeline was compiled with; a different installed version is logged (the image and
    the YAML should come from one release), not refused.
    """
    exit_on_sigterm()
    die_with_parent()
    from gemini_sft_kfp import __version__

    if compiled_with and compiled_with != __version__:
        log.warning(
            "pipeline compiled with gemini-sft-kfp %s, image has %s: compile against the "
            "image you run (gemini-sft compile --image ...)",
            compiled_with,
            __version__,
        )
    module = importlib.import_module(f"gemini_sft_kfp.components.{name}.component")
    return getattr(module, name)


# What tasks import at run time besides our own modules (the executors import these
# lazily, inside functions). The image compiles bytecode for exactly this set.
RUNTIME_IMPORTS = (
    "google.genai",
    "google.cloud.storage",
    "google.cloud.aiplatform_v1.services.model_service",
    "google.cloud.aiplatform_v1.services.endpoint_service",
    "google.api_core.client_options",
    "google.auth.credentials",
    "google.oauth2.credentials",
    "httpx",
    "orjson",
    "yaml",
    "tenacity",
)


def task_modules() -> list[str]:
    """Every module of ``gemini_sft_kfp.core``, ``.evaluation`` and ``.components``."""
    import pkgutil

    import gemini_sft_kfp.components
    import gemini_sft_kfp.core
    import gemini_sft_kfp.evaluation

    return [
        info.name
        for package in (
            gemini_sft_kfp.core,
            gemini_sft_kfp.evaluation,
            gemini_sft_kfp.components,
        )
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
    ]


def import_everything() -> int:
    """Import what a task may import (our modules, then the SDKs); returns the count."""
    names = [*task_modules(), *RUNTIME_IMPORTS]
    for name in names:
        importlib.import_module(name)
    return len(names)


if __name__ == "__main__":  # python -m gemini_sft_kfp.runtime.task --warm (the Dockerfile)
    import sys
    import time

    if sys.argv[1:] != ["--warm"]:
        sys.exit("usage: python -m gemini_sft_kfp.runtime.task --warm")
    started = time.perf_counter()
    count = import_everything()
    print(f"imported {count} modules in {time.perf_counter() - started:.2f}s")
