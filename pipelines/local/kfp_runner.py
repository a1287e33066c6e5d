"""Run a pipeline on the KFP local runner, readably: progress per task, full log in a file.

The local runner prints every task's executor input, streamed logs and outputs to
stdout. Here that stream goes to ``<run dir>/run.log`` instead, and only task starts and
ends reach the caller (``on_event``). After the run, each task's ``executor_output.json``
is read back, so the summary is built from what the tasks actually wrote, on failure too.
"""

from __future__ import annotations

import collections
import contextlib
import io
import logging
import os
import re
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from gemini_sft_kfp.core.processes import in_main_thread

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STARTED = re.compile(r"Executing task '(?P<task>[^']+)'")
_FINISHED = re.compile(r"Task '(?P<task>[^']+)' finished with status (?P<status>SUCCESS|FAILURE)")
_SKIPPED = re.compile(r"Skipping (?:conditional )?task (?P<task>[^\s:]+)")


@dataclass
class TaskEvent:
    """A task started (status None), finished (SUCCESS / FAILURE) or was skipped
    (SKIPPED: a condition was false, or an upstream task failed)."""

    task: str
    status: str | None
    seconds: float = 0.0


EventHandler = Callable[[TaskEvent], None]


TAIL_LINES = 5000  # the log's last lines, kept in memory in case the file cannot be written
TAIL_LINE_CHARS = 2000


class _ProgressStream(io.TextIOBase):
    """A stdout stand-in: everything to the log file, task starts/ends to ``on_event``.

    A log file that cannot be written (a full disk) never fails the run or floods the
    terminal with logging errors: the first error is kept (``log_error``) and progress
    goes on. The log's last ``TAIL_LINES`` lines are kept in memory (``tail``): a write
    that failed lost what the file had buffered too, and a failed task's error must
    still reach the summary.
    """

    def __init__(self, log_file: io.TextIOBase | None, on_event: EventHandler | None) -> None:
        self._log = log_file
        self._on_event = on_event
        self._outer_stdout = sys.stdout  # progress goes where stdout went before the run
        self._pending = ""
        self._started: dict[str, float] = {}
        self.finished: dict[str, str] = {}
        self.log_error: OSError | None = None
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._to_log(lambda log: log.write(text))
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self.tail.append(line[:TAIL_LINE_CHARS])
            self._scan(_ANSI.sub("", line))
        return len(text)

    def flush(self) -> None:
        self._to_log(lambda log: log.flush())

    def close_log(self) -> None:
        """Close the log file (its last buffered lines may not fit either)."""
        self._to_log(lambda log: log.close())
        self._log = None

    def lost_log(self, error: OSError) -> None:
        """The log file cannot be written from now on."""
        self.log_error = self.log_error or error
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
        self._log = None

    def _to_log(self, action: Callable[[io.TextIOBase], object]) -> None:
        if self._log is not None:
            try:
                action(self._log)
            except OSError as exc:
                self.lost_log(exc)

    def _scan(self, line: str) -> None:
        if match := _STARTED.search(line):
            task = match["task"]
            self._started[task] = time.monotonic()
            self._emit(TaskEvent(task, None))
        elif match := _FINISHED.search(line):
            task, status = match["task"], match["status"]
            self.finished[task] = status
            seconds = time.monotonic() - self._started.get(task, time.monotonic())
            self._emit(TaskEvent(task, status, seconds))
        elif match := _SKIPPED.search(line):  # a branch whose condition is false
            self.finished[match["task"]] = "SKIPPED"
            self._emit(TaskEvent(match["task"], "SKIPPED"))

    def _emit(self, event: TaskEvent) -> None:
        if self._on_event:
            with contextlib.redirect_stdout(self._outer_stdout):
                self._on_event(event)


class _LogToStream(logging.Handler):
    """Sends the orchestrator's own log records (skips, failures) to the progress stream."""

    def __init__(self, stream: _ProgressStream) -> None:
        super().__init__(logging.INFO)
        self._stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        self._stream.write(self.format(record) + "\n")


@dataclass
class RunResult:
    """What a local pipeline run produced, read back from its task directories."""

    succeeded: bool
    run_dir: Path | None
    log_path: Path
    seconds: float
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    task_status: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    display_names: dict[str, str] = field(default_factory=dict)
    log_error: OSError | None = None  # the log file could not be written (a full disk)
    log_tail: str | None = None  # then: the log's last lines, kept in memory

    def display(self, task: str) -> str:
        """The task's display name (``upload-validation-data``, not ``upload-dataset-2``)."""
        return self.display_names.get(task, task)

    @property
    def failed_tasks(self) -> list[str]:
        return [t for t, s in self.task_status.items() if s == "FAILURE"]

    def parameter(self, task: str, name: str = "Output", default: Any = None) -> Any:
        return self.outputs.get(task, {}).get("parameters", {}).get(name, default)

    def artifact(self, task: str, name: str) -> dict[str, Any] | None:
        artifacts = self.outputs.get(task, {}).get("artifacts", {}).get(name)
        return artifacts[0] if artifacts else None

    def ran(self, task: str) -> bool:
        return task in self.outputs or task in self.task_status


def read_task_outputs(run_dir: Path) -> dict[str, dict[str, Any]]:
    """``{task: {"parameters": {...}, "artifacts": {name: [{uri, metadata}]}}}`` of a run."""
    outputs: dict[str, dict[str, Any]] = {}
    for path in sorted(run_dir.glob("*/executor_output.json")):
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):  # cut short (a full disk): no outputs
            continue
        artifacts = {
            name: [
                {"uri": a.get("uri", ""), "metadata": a.get("metadata", {})}
                for a in value.get("artifacts", [])
            ]
            for name, value in data.get("artifacts", {}).items()
        }
        outputs[path.parent.name] = {
            "parameters": data.get("parameterValues", {}),
            "artifacts": artifacts,
        }
    return outputs


def task_display_names(pipeline_spec) -> dict[str, str]:
    """Local task name (the component name, e.g. ``upload-dataset-2``) -> display name.

    The local runner names task directories after components; the pipelines give their
    tasks readable display names (``upload-validation-data``), which progress shows.
    """
    names: dict[str, str] = {}
    dags = [pipeline_spec.root.dag] + [
        component.dag for component in pipeline_spec.components.values() if component.dag.tasks
    ]
    for dag in dags:
        for task in dag.tasks.values():
            component = task.component_ref.name.removeprefix("comp-")
            names[component] = task.task_info.name or component
    return names


def _new_run_dir(pipeline_root: Path, pipeline_name: str, before: set[Path]) -> Path | None:
    candidates = [p for p in pipeline_root.glob(f"{pipeline_name}-*") if p.is_dir()]
    new = [p for p in candidates if p not in before]
    return max(new, key=lambda p: p.stat().st_mtime) if new else None


@contextlib.contextmanager
def _quiet_kfp(stream: _ProgressStream) -> Iterator[None]:
    """Route stdout and the root logger to ``stream``; silence kfp's local-only warnings."""
    root = logging.getLogger()
    handler = _LogToStream(stream)
    saved_handlers, saved_level = root.handlers[:], root.level
    root.handlers = [handler]
    root.setLevel(logging.INFO)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(stream):
            warnings.simplefilter("ignore")
            yield
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)


def _task_pids() -> list[int]:
    """This process's children: the running task (kfp's SubprocessRunner starts one).
    Linux ``/proc``; elsewhere none are found and only the caller's clean-up runs."""
    pids: list[int] = []
    for path in Path("/proc/self/task").glob("*/children"):
        with contextlib.suppress(OSError, ValueError):
            pids += [int(pid) for pid in path.read_text().split()]
    return pids


@contextlib.contextmanager
def _terminate_like_ctrl_c(stream: _ProgressStream) -> Iterator[None]:
    """SIGTERM (``kill``, a CI timeout, a container stop) ends the run the way Ctrl-C
    does: the running task gets SIGTERM too (it cancels the cloud job it owns), then
    ``KeyboardInterrupt`` takes the caller's clean-up path (cancel what is left, print
    the summary, exit non-zero). Before, the task was orphaned and kept polling."""
    if not in_main_thread():
        yield
        return

    def terminate(signum, frame) -> None:
        stream.write("terminated (SIGTERM): stopping the running task\n")
        for pid in _task_pids():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _reap_tasks(timeout: float = 40.0) -> None:
    """Wait for interrupted tasks to finish their own clean-up (they cancel their cloud
    job on SIGTERM / Ctrl-C; a launch first waits up to ``jobs.runner.CREATE_HOLD_SECONDS``
    for a create in flight); none outlives the run: after ``timeout`` they are killed."""
    pending = set(_task_pids())
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                pending.discard(pid)
        if pending:
            time.sleep(0.1)
    for pid in pending:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def run_pipeline_locally(
    pipeline_func: Callable,
    arguments: dict[str, Any],
    *,
    pipeline_root: Path,
    on_event: EventHandler | None = None,
    runner: Any = None,
    on_interrupt: Callable[[], None] | None = None,
) -> RunResult:
    """Run ``pipeline_func(**arguments)`` on ``runner`` (``SubprocessRunner(use_venv=False)``
    by default; ``docker_runner.docker_runner()`` runs every task in the image).

    Interrupted (Ctrl-C, SIGTERM), the running task gets SIGTERM: a child process
    directly, anything else through ``on_interrupt`` (a container: ``docker stop``).

    Tasks run as subprocesses of this Python, in this environment (``os.environ`` is
    inherited, so the emulator variables reach them), in the current directory: give
    local paths in ``arguments`` as absolute paths. A user's own ``components/`` or
    ``pipelines/`` folder there is harmless, everything of ours is under
    ``gemini_sft_kfp``. Never raises for a failed task.
    """
    from gemini_sft_kfp.pipelines.local.control_flow import patch_kfp_local
    from kfp import local

    patch_kfp_local()  # dsl.If decided as Vertex decides it, never skipped for want of a value
    pipeline_root = pipeline_root.resolve()
    pipeline_root.mkdir(parents=True, exist_ok=True)
    pipeline_name = pipeline_func.pipeline_spec.pipeline_info.name
    before = set(pipeline_root.glob(f"{pipeline_name}-*"))
    log_path = pipeline_root / f".{pipeline_name}-{os.getpid()}-{time.time_ns()}.log"

    local.init(
        runner=runner or local.SubprocessRunner(use_venv=False),
        pipeline_root=str(pipeline_root),
        raise_on_error=False,
    )
    display = task_display_names(pipeline_func.pipeline_spec)

    def renamed(event: TaskEvent) -> None:
        if on_event:
            on_event(TaskEvent(display.get(event.task, event.task), event.status, event.seconds))

    started = time.monotonic()
    interrupted = False
    log_file, log_error = None, None
    try:
        log_file = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
    except OSError as exc:
        log_error = exc
    stream = _ProgressStream(log_file, renamed)
    if log_error is not None:
        stream.lost_log(log_error)
    try:
        with _quiet_kfp(stream), _terminate_like_ctrl_c(stream):
            try:
                pipeline_func(**arguments)
            except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop here, the caller cleans up
                interrupted = True
                stream.write("interrupted (Ctrl-C / SIGTERM)\n")
                stream.finished.setdefault("<pipeline>", "FAILURE")
                if on_interrupt is not None:
                    on_interrupt()
                _reap_tasks()
            except Exception as exc:  # the orchestrator itself failed, not a task
                stream.write(f"pipeline orchestration failed: {exc!r}\n")
                stream.finished.setdefault("<pipeline>", "FAILURE")
        stream.write("\n")
    finally:
        stream.close_log()
    seconds = time.monotonic() - started

    run_dir = _new_run_dir(pipeline_root, pipeline_name, before)
    final_log = log_path
    if run_dir is not None and log_path.exists():
        with contextlib.suppress(OSError):
            log_path.replace(run_dir / "run.log")
            final_log = run_dir / "run.log"
    outputs = read_task_outputs(run_dir) if run_dir else {}
    task_status = dict(stream.finished)
    succeeded = bool(task_status) and "FAILURE" not in task_status.values()
    return RunResult(
        succeeded=succeeded,
        run_dir=run_dir,
        log_path=final_log,
        seconds=seconds,
        outputs=outputs,
        task_status=task_status,
        interrupted=interrupted,
        display_names=display,
        log_error=stream.log_error,
        log_tail="\n".join(stream.tail) if stream.log_error else None,
    )


_EXCEPTION_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<message>.*))?$")
_LOG_PREFIX = re.compile(r"^\d\d:\d\d:\d\d\.\d+ - [A-Z]+ -")


def _exception_lines(lines: list[str]) -> list[str] | None:
    """The exception message at the end of a traceback, without the frames."""
    frames = [i for i, line in enumerate(lines) if line.startswith('File "')]
    if not frames:
        return None
    for i in range(frames[-1] + 1, len(lines)):
        match = _EXCEPTION_LINE.match(lines[i])
        if match and (match["message"] is not None or match["type"].endswith("Error")):
            kind = match["type"].rsplit(".", 1)[-1]
            first = "error" if kind == "UserError" else kind
            rest = [ln for ln in lines[i + 1 :] if not _LOG_PREFIX.match(ln)]
            return [f"{first}: {match['message'] or ''}".rstrip(": "), *rest]
    return None


def task_log_tail(
    log_path: Path, task: str, lines: int = 12, log_text: str | None = None
) -> list[str]:
    """What a failed task said last: its exception message when it raised, else its last
    log lines; without kfp's decoration or the traceback frames. ``log_text``: the log
    itself, when its file is incomplete (``RunResult.log_tail``)."""
    if log_text is None:
        try:
            log_text = log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            log_text = ""
    text = _ANSI.sub("", log_text)
    start = text.rfind(f"Executing task '{task}'")
    if start < 0:
        return []
    end = text.find(f"Task '{task}' finished", start)
    body = text[start : end if end > 0 else len(text)].splitlines()[1:]
    kept = [ln.strip() for ln in body if ln.strip() and "Streamed logs" not in ln]
    exception = _exception_lines(kept)
    return kept[-lines:] if exception is None else exception[:lines]
