"""The runner of a long-running Vertex AI job: resume, find, create once, poll, cancel.

One place for what every component that starts a cloud job must get right, modelled on
GCPC's ``JobRemoteRunner`` + ``ExecutionContext`` and made safe for APIs without a
request id. What differs between job kinds (the create/get/list/cancel calls, the
``gcp_resources`` resource type, what to call it in messages) is a small ``JobKind``
adapter, such as ``tuning_job.TUNING_JOBS``.

Decisions a user relies on:
- Never two billed jobs for one task. The server does not deduplicate creates, so
  before a create we look for (1) the job this task recorded in ``gcp_resources``,
  (2) a job carrying this task's idempotency label. A create that fails ambiguously
  (5xx, 429, timeout, dropped connection) is followed by another look-up, never by a
  blind retry.
- Reuse: a job found still active, SUCCEEDED, or CANCELLED (a person cancelled it:
  respected, the wait fails) is reused. One that ended FAILED or EXPIRED produced
  nothing, so a retried task may start a fresh one, with the same label.
- A poll rides out transient errors (408/429/5xx, dropped connections) until the
  wait's own timeout: an outage must not fail the task and get a paid job cancelled.
- SIGTERM (the pipeline was cancelled), or Ctrl-C during a wait, cancels the job, then
  exits non-zero. A stop mid-create first gives the create up to ``CREATE_HOLD_SECONDS``
  to answer (so the job it made is known), then cancels every still-active job of the
  task: none is left orphaned. While a create's outcome is unknown a marker
  (``<gcp_resources>.creating``) says so; it outlives a task killed mid-create, so
  whoever decides next (the local run's clean-up, a rerun) looks for the late job by
  label instead of concluding that there is none.
- A timeout does NOT cancel the job unless asked: hours of paid work are not thrown
  away because a wait was configured too short.
- Quota: a create refused with 429 RESOURCE_EXHAUSTED created nothing (a project has
  one concurrent tuning job by default). It is waited out with a long backoff, logging
  why, until ``quota_timeout_seconds``, so a scheduled run that starts beside another
  job waits its turn instead of failing after a minute. A job the service holds
  (``WAITING_FOR_QUOTA`` / ``WAITING_FOR_CAPACITY``, the kind's ``detail``) is waited
  on with its detailed state logged and its time in each detail recorded
  (``detail_seconds``) for the task's metrics.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from gemini_sft_kfp.core import gcp_resources, retry
from gemini_sft_kfp.core.errors import CloudJobError, UserError
from gemini_sft_kfp.jobs.identity import (
    IDEMPOTENCY_LABEL,
    is_reusable,
    label_filter,
    labelled,
    local_run_labels,
    newest_reusable,
)
from gemini_sft_kfp.jobs.kinds import JobKind
from gemini_sft_kfp.jobs.states import ACTIVE_STATES, is_terminal, state_name
from gemini_sft_kfp.jobs.stop import ExecutionContext, Terminated, sigterm_deferred, sigterm_ignored

log = logging.getLogger(__name__)

CREATE_ATTEMPTS = 5
CREATE_BACKOFF_SECONDS = (2.0, 30.0)  # initial, maximum wait between create attempts
MIN_RETRY_DEADLINE = 60.0  # a poll near the timeout still rides out a short blip
RETRY_MAX_INTERVAL = 60.0
CANCEL_RETRY_DEADLINE = 60.0  # a stopped task has a short grace period
# A poll that cannot reach the service at all (refused, no such host) for this long fails
# the wait with that reason: an outage answers, a dead endpoint (an orphaned task polling
# a stopped emulator) never will. The job is not cancelled; a rerun resumes it.
POLL_UNREACHABLE_SECONDS = 120.0
HEARTBEAT_SECONDS = 600.0  # an unchanged state is still logged this often
# Stopped mid-create: wait this long for the create's answer (a create answers in about a
# second; a slow one in several), then this long for a job cut short to show up; within
# the 30 s a platform (Kubernetes, ``docker stop`` here, the local runner) grants.
CREATE_HOLD_SECONDS = 20.0
ORPHAN_LOOKUP_SECONDS = 5.0
ORPHAN_LOOKUP_INTERVAL = 0.25  # between two looks for a job whose create was cut short
CREATING_SUFFIX = ".creating"  # next to gcp_resources while a create's outcome is unknown
STOP_CALL_DEADLINE = 5.0
QUOTA_BACKOFF_SECONDS = (30.0, 600.0)  # initial, maximum wait after a quota refusal
DEFAULT_QUOTA_TIMEOUT_SECONDS = 6 * 3600.0  # how long a create waits for a quota slot
QUOTA_STATUS = 429  # RESOURCE_EXHAUSTED


class QuotaTimeoutError(CloudJobError):
    """Creates were refused for lack of quota for longer than the quota timeout."""


class WaitTimeoutError(CloudJobError):
    """The wait gave up while the job was still running (the job keeps running)."""


def creating_marker(gcp_resources_path: str | None) -> str | None:
    """The file that exists while this task's create has an unknown outcome (None: the
    task records nothing)."""
    return gcp_resources_path + CREATING_SUFFIX if gcp_resources_path else None


class CloudJob:
    """One task's job of one ``kind``: start it at most once, wait for it, cancel it.

    ``client_factory`` makes the API client; a fresh one is used to cancel, because the
    interrupted one may be mid-request. ``gcp_resources_path`` is where the job is
    recorded for a restarted task (and for the Vertex AI Pipelines console).
    ``reuse_cancelled=False``: a cancelled job found by its label is not reused (a
    person re-running a command they stopped wants it run, not the cancelled job).
    """

    def __init__(
        self,
        kind: JobKind,
        client_factory: Callable[[], Any],
        *,
        location: str,
        gcp_resources_path: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        reuse_cancelled: bool = True,
    ) -> None:
        self.kind = kind
        self.reuse_cancelled = reuse_cancelled
        self.location = location
        self.gcp_resources_path = gcp_resources_path
        self._client_factory = client_factory
        self._client: Any = None
        self._sleep = sleep
        self._clock = clock
        # seconds the last wait saw each detailed state (e.g. WAITING_FOR_QUOTA), and
        # seconds creates spent refused for quota: for the task's metrics
        self.detail_seconds: dict[str, float] = {}
        self.quota_wait_seconds = 0.0

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    # --- resume and find -------------------------------------------------------------

    def record(self, name: str) -> None:
        """Write ``gcp_resources`` (if this task has one) before waiting on anything."""
        if self.gcp_resources_path:
            gcp_resources.write(
                self.gcp_resources_path, self.kind.resource_type, name, self.location
            )

    def recorded_name(self) -> str | None:
        """The job a previous attempt of this task wrote to ``gcp_resources``, if any."""
        return gcp_resources.read(self.gcp_resources_path, self.kind.resource_type)

    def recorded_job(self) -> Any | None:
        """The recorded job, if it still exists and is reusable."""
        name = self.recorded_name()
        if not name:
            return None
        try:
            job = retry.call_with_retry(self.kind.get, self.client, name)
        except Exception as exc:
            if retry.http_status(exc) != 404:
                raise
            log.warning("recorded job %s no longer exists; looking further", name)
            return None
        if is_reusable(job, cancelled=self.reuse_cancelled):
            return job
        log.info("recorded job %s ended %s; looking further", name, state_name(job.state))
        return None

    def find(self, label_value: str) -> Any | None:
        """The newest reusable job carrying this task's label, or None (lists are retried)."""
        try:
            jobs = self._list(label_filter(label_value))
        except Exception as exc:
            if retry.http_status(exc) != 400:
                raise
            # A service that rejects the filter must not lead to a duplicate: scan all jobs.
            log.warning("label filter rejected (%s); listing all %ss instead", exc, self.kind.noun)
            jobs = self._list("")
        found = labelled(jobs, IDEMPOTENCY_LABEL, label_value)
        return newest_reusable(found, label_value, cancelled=self.reuse_cancelled)

    def _list(self, filter_text: str) -> list:
        return retry.call_with_retry(self.kind.list, self.client, filter_text)

    # --- create once ---------------------------------------------------------------------

    def start(
        self,
        create: Callable[[Any, dict[str, str]], Any],
        label_value: str,
        *,
        labels: Mapping[str, str] | None = None,
        preflight: Callable[[], None] | None = None,
        attempts: int = CREATE_ATTEMPTS,
        quota_timeout_seconds: float = DEFAULT_QUOTA_TIMEOUT_SECONDS,
    ) -> str:
        """Resume, find or create this task's job; record it; return its resource name.

        ``create(client, labels)`` starts the job; ``labels`` get the idempotency label.
        ``preflight`` runs only when a job is about to be created. Quota refusals (429)
        are waited out for up to ``quota_timeout_seconds`` (0: they count as ordinary
        transient failures). Stopped by SIGTERM (``stop.Terminated``): this task's active
        jobs are cancelled, then it goes on.
        """
        job = None
        try:
            job = self._resume_find_or_create(
                create, label_value, labels, preflight, attempts, quota_timeout_seconds
            )
        except Terminated as stop:
            known = [job.name] if job is not None else []
            cancelled = self.cancel_task_jobs(label_value, known, wait_for_job=stop.cut_short)
            if cancelled or not stop.cut_short:  # the create's outcome is known
                self._creating(False)
            raise
        except (UserError, QuotaTimeoutError):  # refused: nothing was created
            self._creating(False)
            raise
        self.record(job.name)
        self._creating(False)
        return job.name

    def _creating(self, in_flight: bool) -> None:
        """Mark (or unmark) a create whose outcome is not known yet (``creating_marker``)."""
        marker = creating_marker(self.gcp_resources_path)
        if marker is None:
            return
        if in_flight:
            os.makedirs(os.path.dirname(marker) or ".", exist_ok=True)
            with open(marker, "w", encoding="utf-8") as f:
                f.write(f"{time.time()}\n")
        else:
            with contextlib.suppress(FileNotFoundError):
                os.remove(marker)

    def _resume_find_or_create(
        self, create, label_value, labels, preflight, attempts, quota_timeout_seconds
    ):
        job = self.recorded_job()
        if job is not None:
            log.info("resuming %s %s (recorded by an earlier attempt)", self.kind.noun, job.name)
        else:
            job = self.find(label_value)
            if job is not None:
                log.info(
                    "reusing %s %s (label %s=%s, state %s)",
                    self.kind.noun,
                    job.name,
                    IDEMPOTENCY_LABEL,
                    label_value,
                    state_name(job.state),
                )
        if job is None:
            if preflight is not None:
                preflight()
            all_labels = {**(labels or {}), **local_run_labels(), IDEMPOTENCY_LABEL: label_value}
            self._creating(True)
            job = self._create_once(
                create, all_labels, label_value, attempts, quota_timeout_seconds
            )
        return job

    def cancel_task_jobs(
        self, label_value: str, known: list[str], *, wait_for_job: bool = False
    ) -> list[str]:
        """The run was cancelled: cancel this task's still-active jobs; returns their names.

        ``wait_for_job``: a create was cut short, so its job may appear a moment later;
        look for it (by label) for up to ``ORPHAN_LOOKUP_SECONDS``. Best effort: the
        platform is stopping us, so errors are logged, not raised.
        """
        cancelled: list[str] = []
        deadline = self._clock() + (ORPHAN_LOOKUP_SECONDS if wait_for_job else 0.0)
        quick = retry.retrying(deadline=STOP_CALL_DEADLINE)
        client = self._client_factory()  # the interrupted one may be mid-request
        with sigterm_ignored():
            while True:
                names = list(known)
                try:
                    jobs = retry.call_with_retry(
                        self.kind.list,
                        client,
                        label_filter(label_value),
                        policy=quick,
                    )
                    names += [
                        job.name
                        for job in labelled(jobs, IDEMPOTENCY_LABEL, label_value)
                        if not is_terminal(state_name(job.state))
                    ]
                except Exception as exc:
                    log.error("stopped: could not list this task's %ss: %s", self.kind.noun, exc)
                for name in dict.fromkeys(names):
                    if name in cancelled:
                        continue
                    try:
                        retry.call_with_retry(self.kind.cancel, client, name, policy=quick)
                        log.warning("stopped: cancelled %s %s", self.kind.noun, name)
                        cancelled.append(name)
                    except Exception as exc:
                        log.error("stopped: could not cancel %s %s: %s", self.kind.noun, name, exc)
                if cancelled or self._clock() >= deadline:
                    break
                self._sleep(ORPHAN_LOOKUP_INTERVAL)
        if not cancelled:
            log.warning("stopped: no %s of this task was running", self.kind.noun)
        return cancelled

    def _create_once(
        self,
        create,
        labels: dict[str, str],
        label_value: str,
        attempts: int,
        quota_timeout_seconds: float = 0.0,
    ):
        """Create; after any failure that is not a clear rejection, look for the job first.

        Ambiguous failures (5xx, 429, timeouts, dropped connections) are tried again with
        backoff; anything else unexpected (e.g. a response that cannot be parsed) is
        raised, unless the look-up shows the job was created after all. Quota refusals
        (429) wait on a long backoff of their own and use up no attempt.
        """
        initial, maximum = CREATE_BACKOFF_SECONDS
        waits = retry.backoff(initial, maximum, factor=2.0, jitter=True)
        quota = _QuotaWait(self, quota_timeout_seconds)
        attempt = 0
        while attempt < attempts:
            try:
                with sigterm_deferred(CREATE_HOLD_SECONDS):  # stopped: see what it made
                    return create(self.client, labels)
            except Exception as exc:
                user_error = self.kind.rejection(exc)
                if user_error is not None:
                    raise user_error from exc
                if quota.applies(exc):
                    quota.wait_out(exc)
                    found = self.find(label_value)
                    if found is not None:
                        log.info("the job was created after all: %s", found.name)
                        return found
                    continue
                attempt += 1
                again = retry.is_transient(exc) and attempt < attempts
                log.warning(
                    "create attempt %d failed (%s); checking whether the job exists%s",
                    attempt,
                    exc,
                    " before trying again" if again else "",
                )
                if again:
                    self._sleep(next(waits))
                found = self.find(label_value)
                if found is not None:
                    log.info("the job was created after all: %s", found.name)
                    return found
                if not again:
                    raise
        raise AssertionError("unreachable")

    # --- poll and cancel -------------------------------------------------------------

    def wait(
        self,
        name: str,
        *,
        poll_initial_seconds: float = 10.0,
        poll_max_seconds: float = 60.0,
        timeout_seconds: float = 172800.0,
        cancel_on_timeout: bool = False,
    ) -> Any:
        """Poll ``name`` until it ends and return it; cancel it if the task is stopped.

        Raises ``WaitTimeoutError`` when ``timeout_seconds`` pass first.
        """
        start = self._clock()
        last_state, last_log = None, 0.0
        last_detail, last_seen = "", start
        self.detail_seconds = {}
        waits = retry.backoff(poll_initial_seconds, poll_max_seconds)
        with ExecutionContext(on_cancel=lambda: self._cancel_on_stop(name)):
            while True:
                remaining = max(timeout_seconds - (self._clock() - start), MIN_RETRY_DEADLINE)
                job = self.get(name, deadline=remaining)
                state = state_name(job.state)
                now = self._clock()
                if last_detail:  # the time since the last poll counts for the detail seen
                    self.detail_seconds[last_detail] += now - last_seen
                detail = "" if is_terminal(state) else self.kind.detail(job)
                if detail:
                    self.detail_seconds.setdefault(detail, 0.0)
                last_detail, last_seen = detail, now
                elapsed = now - start
                shown = f"{state} ({detail}{_DETAIL_NOTES.get(detail, '')})" if detail else state
                if shown != last_state or elapsed - last_log >= HEARTBEAT_SECONDS:
                    log.info("%s %s: %s (after %.0fs)", self.kind.noun, name, shown, elapsed)
                    last_state, last_log = shown, elapsed
                if is_terminal(state):
                    return job
                if elapsed >= timeout_seconds:
                    self._timed_out(name, state, elapsed, cancel_on_timeout)
                self._sleep(min(next(waits), max(timeout_seconds - elapsed, 0.0)))

    def get(self, name: str, *, deadline: float | None = None) -> Any:
        """The job (transient errors retried); one that cannot be read is the user's mistake."""
        policy = (
            retry.retrying(
                initial=1.0,
                maximum=RETRY_MAX_INTERVAL,
                deadline=deadline,
                unreachable_deadline=POLL_UNREACHABLE_SECONDS,
            )
            if deadline is not None
            else None
        )
        try:
            return retry.call_with_retry(self.kind.get, self.client, name, policy=policy)
        except Exception as exc:
            status = retry.http_status(exc)
            if status in (403, 404):
                raise UserError(
                    f"cannot read {self.kind.noun} {name}: {status} "
                    f"{getattr(exc, 'message', None) or exc} "
                    "(check the name, project and location)",
                    field=self.kind.field,
                    code=str(status),
                ) from exc
            raise

    def is_active(self, name: str) -> bool:
        """Still alive, and maybe billing."""
        return state_name(self.get(name).state) in ACTIVE_STATES

    def cancel(self, name: str) -> None:
        """Cancel ``name`` with a fresh client (retried: a cancel is idempotent)."""
        cancel(self.kind, self._client_factory(), name)

    def _cancel_on_stop(self, name: str) -> None:
        log.warning("cancelling %s %s", self.kind.noun, name)
        self.cancel(name)
        log.warning("cancel requested for %s", name)

    def _timed_out(self, name: str, state: str, elapsed: float, cancel_it: bool):
        noun = self.kind.noun
        if cancel_it:
            self.cancel(name)
            raise WaitTimeoutError(
                f"{noun} {name} still {state} after {elapsed:.0f}s; cancelled it "
                "(cancel_on_timeout=True)",
                state=state,
            )
        raise WaitTimeoutError(
            f"gave up waiting after {elapsed:.0f}s: {noun} {name} is still {state} and was "
            "NOT cancelled; run the wait again to resume it (or cancel it yourself)",
            state=state,
        )


# Why a job in a detailed state is not progressing, for the log.
_DETAIL_NOTES = {
    "WAITING_FOR_QUOTA": ": held until a concurrent-job quota slot of the project frees up",
    "WAITING_FOR_CAPACITY": ": held until the service has capacity to run it",
}


class _QuotaWait:
    """Waits out quota refusals of a create: long backoff, a deadline, a log line each."""

    def __init__(self, job: CloudJob, timeout_seconds: float) -> None:
        self.job = job
        self.timeout = max(0.0, timeout_seconds)
        self.waits = retry.backoff(*QUOTA_BACKOFF_SECONDS, factor=2.0, jitter=True)
        self.started: float | None = None

    def applies(self, exc: BaseException) -> bool:
        return self.timeout > 0 and retry.http_status(exc) == QUOTA_STATUS

    def wait_out(self, exc: BaseException) -> None:
        now = self.job._clock()
        self.started = now if self.started is None else self.started
        waited = now - self.started
        self.job.quota_wait_seconds = waited
        noun = self.job.kind.noun
        reason = getattr(exc, "message", None) or str(exc)
        if waited >= self.timeout:
            raise QuotaTimeoutError(
                f"no quota to create the {noun} for {waited:.0f}s (429 RESOURCE_EXHAUSTED: "
                f"{reason}); gave up after quota_timeout_seconds={self.timeout:.0f}. Another "
                f"{noun} may hold the project's concurrent-job quota: wait for it, or ask for "
                "more quota",
                code=QUOTA_STATUS,
                state="RESOURCE_EXHAUSTED",
            )
        delay = min(next(self.waits), self.timeout - waited)
        log.warning(
            "no quota to create the %s (429 RESOURCE_EXHAUSTED: %s): another job probably "
            "holds the project's concurrent %s quota; nothing was created. Waiting %.0fs "
            "before trying again (%.0fs of the %.0fs quota timeout left)",
            noun,
            reason,
            noun,
            delay,
            self.timeout - waited,
            self.timeout,
        )
        self.job._sleep(delay)
        self.job.quota_wait_seconds = self.job._clock() - self.started


def cancel(kind: JobKind, client: Any, name: str) -> None:
    """Cancel one job (retried: a cancel is idempotent)."""
    retry.call_with_retry(
        kind.cancel, client, name, policy=retry.retrying(deadline=CANCEL_RETRY_DEADLINE)
    )
