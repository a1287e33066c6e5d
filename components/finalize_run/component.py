"""KFP component ``finalize_run``: the exit handler of the pipelines (thin wrapper)."""

from kfp import dsl
from kfp.dsl import Markdown, Output

from gemini_sft_kfp.runtime.image import sft_component


@sft_component
def finalize_run(
    project: str,
    location: str,
    status: dsl.PipelineTaskFinalStatus,
    report: Output[Markdown],
    run_key: str = "",
    cancel_running_jobs: bool = True,
    keep_on_fail: bool = False,
) -> str:
    """Run last, whatever happened: cancel a tuning job the failed run left running; report.

    ``run_key`` is the idempotency key the launch step labelled its job with (the
    pipeline run id), so the job is found even when the launch step never returned.
    A run that failed after tuning leaves its tuned model in a stated place: kept with
    label ``gemini_sft_outcome=kept-run-failed`` (``keep_on_fail``) or deleted; the
    report says which. Returns the run's final state (SUCCEEDED, FAILED or CANCELLED).
    """
    from gemini_sft_kfp.components.finalize_run.executor import run as finalize

    return finalize(
        project=project,
        location=location,
        state=status.state,
        pipeline_job=status.pipeline_job_resource_name,
        error_code=status.error_code,
        error_message=status.error_message,
        run_key=run_key,
        cancel_running_jobs=cancel_running_jobs,
        report_path=report.path,
        keep_on_fail=keep_on_fail,
    )
