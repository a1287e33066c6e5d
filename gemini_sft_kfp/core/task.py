"""What every pipeline task runs first: the component from the installed package, and
SIGTERM turned into an orderly exit.

Why: on Vertex AI Pipelines, Kubeflow Pipelines and Docker, cancelling a run sends
SIGTERM to the container's PID 1 only, then kills everything after a grace period.
Our task command ``exec``s Python, so Python is PID 1 (not a shell that ignores the
signal). But the kernel drops every signal PID 1 has left at its default action, so
Python also needs a handler: without one a stopped task would sit out the whole grace
period and be killed, never running the code that cancels its cloud job.

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
import threading
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger(__name__)


class Terminated(SystemExit):
    """SIGTERM, raised in the main thread: unwinds ``finally`` blocks, exits 128+signum.

    A ``SystemExit``, so ``except Exception`` in library code cannot swallow it and an
    uncaught one ends the task with the conventional status and no traceback.
    ``cut_short``: raised by ``sigterm_deferred`` after its time ran out, i.e. while the
    held call was still in flight (its effect on the server is unknown).
    """

    def __init__(self, signum: int = signal.SIGTERM, *, cut_short: bool = False) -> None:
        super().__init__(128 + signum)
        self.signum = signum
        self.cut_short = cut_short


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _raise_terminated(signum: int, _frame: Any) -> None:
    raise Terminated(signum)


def exit_on_sigterm() -> None:
    """Install the task-wide handler: SIGTERM raises ``Terminated`` (Python as PID 1
    would otherwise ignore the signal)."""
    if _in_main_thread():
        signal.signal(signal.SIGTERM, _raise_terminated)


LOCAL_RUN_ENV = "GEMINI_SFT_LOCAL_RUN"
"""``<pid>:<output dir>`` of the ``gemini-sft run`` whose subprocess runner started this
task (set by ``pipelines/local/resume.py``; never in a container or on Vertex)."""
_PR_SET_PDEATHSIG = 1


def local_run_pid(environ: dict[str, str] | None = None) -> int:
    """The pid of the local run that started this task as its child (0: none)."""
    value = (os.environ if environ is None else environ).get(LOCAL_RUN_ENV, "")
    head = value.split(":", 1)[0]
    return int(head) if head.isdigit() else 0


def die_with_parent() -> None:
    """A task of a local run gets SIGTERM when that run dies (``kill -9``, a crash).

    Without this an orphaned task carried on with nobody to report to: a launch created
    its job behind the next run's back, a wait kept polling (a dead emulator port, for
    48 h). With it, the orphan stops like a cancelled task: a launch waits for its
    create's answer, then cancels the job; a wait cancels the job it polls (Linux
    ``PR_SET_PDEATHSIG``). The next run in the output directory also waits for, or ends,
    any orphan still running before it decides anything (``pipelines/local/dead_tasks.py``).
    """
    parent = local_run_pid()
    if not parent or not sys.platform.startswith("linux"):
        return
    if os.getppid() != parent:  # started by someone else (who inherited the variable)
        if _alive(parent):
            return
        raise Terminated(signal.SIGTERM)  # the run died before this task got going
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # it died before the request took effect
        raise Terminated(signal.SIGTERM)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def sigterm_deferred(max_seconds: float) -> Iterator[None]:
    """Hold a SIGTERM while a call whose answer we must see runs (a create that names
    the job it made), for at most ``max_seconds``; then raise ``Terminated``.

    Without this, a stop mid-create drops the response, and the job the server created
    has no owner. Raised at the block's end when the call finished in time, or with
    ``cut_short=True`` from inside the call when it did not, or when it failed (a 5xx
    or a timeout may still have created the job).
    """
    if not _in_main_thread():
        yield
        return
    pending: list[int] = []

    def on_alarm(_signum: int, _frame: Any) -> None:
        raise Terminated(pending[0], cut_short=True)

    def hold(signum: int, _frame: Any) -> None:
        if not pending:
            log.warning("received signal %d: finishing the call in flight first", signum)
            pending.append(signum)
            signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, max(max_seconds, 0.001))

    previous_term = signal.signal(signal.SIGTERM, hold)
    previous_alarm = signal.getsignal(signal.SIGALRM)
    try:
        yield
    except Exception:
        if pending:  # the call failed while a stop was held: the stop must not be lost,
            raise Terminated(pending[0], cut_short=True) from None  # nor its outcome known
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_alarm)
        signal.signal(signal.SIGTERM, previous_term)
    if pending:
        raise Terminated(pending[0])


@contextlib.contextmanager
def sigterm_ignored() -> Iterator[None]:
    """While cleaning up after a SIGTERM: a second one must not cut the clean-up short."""
    if not _in_main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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


if __name__ == "__main__":  # python -m gemini_sft_kfp.core.task --warm (the Dockerfile)
    import sys
    import time

    if sys.argv[1:] != ["--warm"]:
        sys.exit("usage: python -m gemini_sft_kfp.core.task --warm")
    started = time.perf_counter()
    count = import_everything()
    print(f"imported {count} modules in {time.perf_counter() - started:.2f}s")
