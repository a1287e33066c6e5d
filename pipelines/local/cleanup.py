"""What ``gemini-sft run`` does about its own jobs when its tasks could not: cancel the
jobs an interrupted run left running, and settle a failed run's tuned model when its exit
handler (``finalize_run``) left no word (it failed too, or never ran: a full disk).
"""

from __future__ import annotations

import os
from typing import Any

from gemini_sft_kfp.pipelines import tasks
from gemini_sft_kfp.pipelines.local.kfp_runner import RunResult


def tuning_client(project: str, location: str) -> Any:
    """The Vertex AI tuning-jobs client the run's own clean-up uses."""
    from gemini_sft_kfp.jobs.tuning import TUNING_JOBS

    return TUNING_JOBS.client(project, location)


def cancel_left_running(
    result: RunResult, project: str, location: str, run_key: str = ""
) -> str | None:
    """After Ctrl-C / SIGTERM: cancel the run's tuning jobs still active (the exit handler
    never ran): the one its launch step recorded and, given the ``run_key``, every job
    labelled with it, including one whose create its task never saw answered (killed
    mid-create: waited for, ``local_resume.settled_jobs``). Returns the names cancelled,
    comma-separated, if any."""
    from gemini_sft_kfp.pipelines.local import resume as local_resume

    from gemini_sft_kfp.jobs import states as job_states
    from gemini_sft_kfp.jobs.runner import CloudJob
    from gemini_sft_kfp.jobs.tuning import TUNING_JOBS

    if result.run_dir is None and not run_key:
        return None
    job = CloudJob(
        TUNING_JOBS,
        lambda: tuning_client(project, location),
        location=location,
        gcp_resources_path=str(result.run_dir / tasks.LAUNCH / "gcp_resources")
        if result.run_dir
        else None,
    )
    names = []
    recorded = job.recorded_name()
    if recorded and job.is_active(recorded):
        names.append(recorded)
    if run_key:
        # this run's own markers: in its run directory, not the output directory's runs
        markers = list(result.run_dir.glob(local_resume.CREATING_MARKERS)) if result.run_dir else []
        for found in local_resume.settled_jobs(job.client, run_key, markers):
            if job_states.state_name(found.state) in job_states.ACTIVE_STATES:
                names.append(found.name)
    names = list(dict.fromkeys(names))
    for name in names:
        job.cancel(name)
    return ", ".join(names) or None


def exit_handler_silent(result: RunResult) -> bool:
    """A failed (not interrupted) run of a pipeline with our exit handler, which left no
    word on the run's jobs and model: it failed too, or never ran."""
    report = result.artifact(tasks.FINALIZE, "report")
    return (
        not result.succeeded
        and not result.interrupted
        and tasks.FINALIZE in result.display_names
        and not (report and os.path.isfile(report["uri"]))
    )


def account_for_run(project: str, location: str, run_key: str, keep_on_fail: bool) -> list[str]:
    """A failed run whose exit handler left no report (it failed too, or never ran: a full
    disk): do its job from here, as it would have (``finalize_run``'s own functions): cancel
    the run's tuning jobs still running, keep (labelled) or delete the tuned model. Returns
    what became of each, in the exit handler's words."""
    from gemini_sft_kfp.components.finalize_run.executor import (
        RunReport,
        cancel_jobs,
        settle_tuned_models,
    )
    from gemini_sft_kfp.pipelines.local import resume as local_resume
    from gemini_sft_kfp.pipelines.local.summary import cleanup_notes

    from gemini_sft_kfp.jobs import states as job_states

    report = RunReport(state="FAILED")
    try:
        client = tuning_client(project, location)
        jobs = local_resume.run_jobs(client, run_key)
        active = [
            j.name for j in jobs if job_states.state_name(j.state) in job_states.ACTIVE_STATES
        ]
        cancel_jobs(client, active, report)
        settle_tuned_models(
            jobs, report, project=project, location=location, keep_on_fail=keep_on_fail
        )
    except Exception as exc:  # the run has failed already: say what could not be done
        return [f"could not check this run's tuning jobs and tuned model: {exc}"]
    return cleanup_notes(report.to_markdown())
