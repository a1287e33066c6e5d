"""A stopped task: one SIGTERM type, and the one place that turns a stop into a cancel.

Why: on Vertex AI Pipelines, Kubeflow Pipelines and Docker, cancelling a run sends
SIGTERM to the container's PID 1 only, then kills everything after a grace period.
Our task command ``exec``s Python, so Python is PID 1 (not a shell that ignores the
signal). But the kernel drops every signal PID 1 has left at its default action, so
Python also needs a handler: without one a stopped task would sit out the whole grace
period and be killed, never running the code that cancels its cloud job.

``Terminated`` is the stop, wherever it is raised (the task-wide handler, a held
create, ``ExecutionContext``); ``ExecutionContext`` (GCPC's idea) runs the cancel.
"""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Callable, Iterator
from typing import Any

from gemini_sft_kfp.core.processes import in_main_thread

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


def _raise_terminated(signum: int, _frame: Any) -> None:
    raise Terminated(signum)


def exit_on_sigterm() -> None:
    """Install the task-wide handler: SIGTERM raises ``Terminated`` (Python as PID 1
    would otherwise ignore the signal)."""
    if in_main_thread():
        signal.signal(signal.SIGTERM, _raise_terminated)


@contextlib.contextmanager
def sigterm_deferred(max_seconds: float) -> Iterator[None]:
    """Hold a SIGTERM while a call whose answer we must see runs (a create that names
    the job it made), for at most ``max_seconds``; then raise ``Terminated``.

    Without this, a stop mid-create drops the response, and the job the server created
    has no owner. Raised at the block's end when the call finished in time, or with
    ``cut_short=True`` from inside the call when it did not, or when it failed (a 5xx
    or a timeout may still have created the job).
    """
    if not in_main_thread():
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
    if not in_main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class ExecutionContext:
    """While inside: SIGTERM (and Ctrl-C) runs ``on_cancel``, then the process exits with
    128 + signal.

    Like GCPC's ``ExecutionContext``, except that the handler only raises, so a blocking
    sleep or poll stops at once and the cancel runs outside the handler with further
    signals ignored; and the exit code says the task was stopped (GCPC exits 0).
    SIGTERM is how a platform stops a task; SIGINT is a person stopping
    ``gemini-sft evaluate --method batch`` (or a local run) at the terminal: either way
    the owner is going away, so its job must not run on, billed and unobserved. SIGINT
    is taken only where Python's default Ctrl-C handler is in place (a caller's own
    handler is left alone). Signals reach only the main thread: elsewhere this does
    nothing.
    """

    def __init__(self, on_cancel: Callable[[], None]):
        self._on_cancel = on_cancel
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> ExecutionContext:
        if not in_main_thread():
            return self
        self._previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, _raise_terminated)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous[signal.SIGINT] = signal.signal(signal.SIGINT, _raise_terminated)
        return self

    def __exit__(self, _type, exc: BaseException | None, _tb) -> None:
        if not self._previous:
            return
        try:
            if isinstance(exc, Terminated):
                for signum in self._previous:  # let the cancel finish
                    signal.signal(signum, signal.SIG_IGN)
                log.warning("received signal %d", exc.signum)
                try:
                    self._on_cancel()
                except Exception as error:  # still exit: the platform is stopping us anyway
                    log.error("could not cancel: %s", error)
                raise SystemExit(128 + exc.signum) from None
        finally:
            for signum, previous in self._previous.items():
                signal.signal(signum, previous)
            self._previous = {}
