"""Wait for a tuning job: poll with backoff, survive blips, cancel on SIGTERM.

Decisions a user relies on:
- Transient errors (408/429/5xx, dropped connections) on a poll are retried with
  backoff until the wait's timeout; the wait does not die on a 503 or an outage.
- A restarted wait (task retry, pod rescheduled) polls the same job: it is given the
  job name, and records it in ``gcp_resources`` at once.
- SIGTERM (the pipeline was cancelled) cancels the job, then exits non-zero: a
  cancelled pipeline must not leave a billed job running.
- On timeout the job is NOT cancelled unless ``cancel_on_timeout`` is set: hours of
  paid training are not thrown away because a wait was configured too short. The
  error says so and how to resume.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator

from gemini_sft_kfp.components.wait_for_tuning_job.result import TuningResult, result_of

from gemini_sft_kfp.core import gcp_resources
from gemini_sft_kfp.core.errors import CloudJobError, UserError
from gemini_sft_kfp.core.job_states import is_terminal, state_name
from gemini_sft_kfp.core.retry import call_with_retry, http_status, retrying

log = logging.getLogger(__name__)

RESOURCE_TYPE = "TuningJob"
BACKOFF_FACTOR = 1.5
MIN_RETRY_DEADLINE = 60.0  # a poll near the timeout still rides out a short blip
RETRY_MAX_INTERVAL = 60.0
CANCEL_RETRY_DEADLINE = 60.0
READ_TIMEOUT_MS = 60_000  # a hung poll times out and is retried, never blocks forever
HEARTBEAT_SECONDS = 600.0  # an unchanged state is still logged this often


class WaitTimeoutError(CloudJobError):
    """The wait gave up while the job was still running (the job keeps running)."""


class _Terminated(BaseException):
    """Raised from the SIGTERM handler so a blocking sleep or poll stops at once."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _raise_on_sigterm() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are only delivered to the main thread
        return

    def handler(signum, _frame):
        raise _Terminated(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def cancel_job(client_factory: Callable[[], object], name: str) -> None:
    """Cancel ``name`` (retried: a cancel is idempotent). A fresh client is used because
    the interrupted one may be mid-request."""
    client = client_factory()
    call_with_retry(
        client.tunings.cancel, name=name, policy=retrying(deadline=CANCEL_RETRY_DEADLINE)
    )


def poll_intervals(initial: float, maximum: float) -> Iterator[float]:
    """initial, initial*1.5, ... capped at maximum."""
    interval = max(0.0, initial)
    while True:
        yield min(interval, maximum)
        interval = max(interval * BACKOFF_FACTOR, 0.001)


def wait_for_job(
    client_factory: Callable[[], object],
    name: str,
    *,
    location: str,
    poll_initial_seconds: float = 10.0,
    poll_max_seconds: float = 60.0,
    timeout_seconds: float = 172800.0,
    cancel_on_timeout: bool = False,
    gcp_resources_path: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> TuningResult:
    """Poll ``name`` until it ends; the result of a SUCCEEDED job, ``CloudJobError`` otherwise."""
    if gcp_resources_path:
        gcp_resources.write(gcp_resources_path, RESOURCE_TYPE, name, location)
    client = client_factory()
    start = clock()
    last_state, last_log = None, 0.0
    intervals = poll_intervals(poll_initial_seconds, poll_max_seconds)
    with _raise_on_sigterm():
        try:
            while True:
                # Transient errors are retried until the wait's own timeout: an outage
                # must not fail the task (and get a healthy, paid-for job cancelled).
                remaining = max(timeout_seconds - (clock() - start), MIN_RETRY_DEADLINE)
                policy = retrying(initial=1.0, maximum=RETRY_MAX_INTERVAL, deadline=remaining)
                job = _get(client, name, policy)
                state = state_name(job.state)
                elapsed = clock() - start
                if state != last_state or elapsed - last_log >= HEARTBEAT_SECONDS:
                    log.info("tuning job %s: %s (after %.0fs)", name, state, elapsed)
                    last_state, last_log = state, elapsed
                if is_terminal(state):
                    return result_of(job)
                if elapsed >= timeout_seconds:
                    return _timed_out(client_factory, name, state, elapsed, cancel_on_timeout)
                sleep(min(next(intervals), max(timeout_seconds - elapsed, 0.0)))
        except _Terminated as term:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # let the cancel finish
            log.warning("received signal %d: cancelling tuning job %s", term.signum, name)
            try:
                cancel_job(client_factory, name)
                log.warning("cancel requested for %s", name)
            except Exception as exc:  # still exit: the platform is stopping us anyway
                log.error("could not cancel %s: %s", name, exc)
            raise SystemExit(128 + term.signum) from None


def _get(client, name: str, policy):
    """One poll (transient errors retried); a job that is not there is the user's mistake."""
    try:
        return call_with_retry(client.tunings.get, name=name, policy=policy)
    except Exception as exc:
        status = http_status(exc)
        if status in (403, 404):
            raise UserError(
                f"cannot read tuning job {name}: {status} "
                f"{getattr(exc, 'message', None) or exc} (check the name, project and location)",
                field="tuning_job",
                code=str(status),
            ) from exc
        raise


def _timed_out(client_factory, name: str, state: str, elapsed: float, cancel: bool):
    if cancel:
        cancel_job(client_factory, name)
        raise WaitTimeoutError(
            f"tuning job {name} still {state} after {elapsed:.0f}s; cancelled it "
            "(cancel_on_timeout=True)",
            state=state,
        )
    raise WaitTimeoutError(
        f"gave up waiting after {elapsed:.0f}s: tuning job {name} is still {state} and was "
        "NOT cancelled; run the wait again to resume it (or cancel it yourself)",
        state=state,
    )


def run(
    project: str,
    location: str,
    tuning_job: str,
    **options,
) -> TuningResult:
    """The component's body: wait with clients from the shared factory."""
    from gemini_sft_kfp.core.clients import genai_client

    name = tuning_job.strip()
    if not name.startswith("projects/") or "/tuningJobs/" not in name:
        raise UserError(
            f"tuning_job {tuning_job!r} is not a tuning job resource name "
            "(projects/P/locations/L/tuningJobs/ID)",
            field="tuning_job",
        )

    def client_factory():
        return genai_client(project, location, timeout_ms=READ_TIMEOUT_MS)

    return wait_for_job(client_factory, name, location=location, **options)
