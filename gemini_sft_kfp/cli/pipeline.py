"""`gemini-sft` commands: compile, run (locally, free), submit and schedule (Vertex AI).

The pipeline options are the same for run, submit and schedule; any parameter without
an option of its own is ``--param NAME=VALUE`` (typed from the pipeline's signature).
SDKs and kfp are imported inside the commands, so ``gemini-sft --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from gemini_sft_kfp.core.errors import UserError

console = Console()
err_console = Console(stderr=True)

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
DEFAULT_LOCAL_OUTPUT = Path(".gemini-sft/runs")

# --- options shared by run / submit / schedule -------------------------------------
PipelineOpt = Annotated[
    str, typer.Option("--pipeline", help="sft, or continuous (tune the current champion).")
]
TrainOpt = Annotated[str | None, typer.Option("--train", help="Training JSONL.")]
ValidationOpt = Annotated[str | None, typer.Option("--validation", help="Validation JSONL.")]
EvalOpt = Annotated[str | None, typer.Option("--eval", help="Held-out evaluation JSONL.")]
BucketOpt = Annotated[str | None, typer.Option("--bucket", help="Bucket for the datasets.")]
BaseModelOpt = Annotated[str | None, typer.Option("--base-model", help="Gemini model to tune.")]
ChampionOpt = Annotated[
    str | None,
    typer.Option("--champion-model", help="continuous: registered model to tune further."),
]
EpochsOpt = Annotated[int | None, typer.Option("--epochs", help="0: the service chooses.")]
AdapterOpt = Annotated[str | None, typer.Option("--adapter-size", help="1, 2, 4, 8 or 16.")]
LrOpt = Annotated[float | None, typer.Option("--learning-rate-multiplier")]
DisplayNameOpt = Annotated[
    str | None, typer.Option("--display-name", help="Tuned model display name.")
]
LabelOpt = Annotated[
    list[str] | None, typer.Option("--label", help="KEY=VALUE on the jobs and models.")
]
AliasOpt = Annotated[
    list[str] | None, typer.Option("--alias", help="Alias(es) given on promotion.")
]
MetricOpt = Annotated[str | None, typer.Option("--metric", help="Gate metric.")]
ThresholdOpt = Annotated[float | None, typer.Option("--threshold", help="Absolute bar.")]
ImprovementOpt = Annotated[
    float | None, typer.Option("--min-improvement", help="Margin over the baseline.")
]
GateOpt = Annotated[str | None, typer.Option("--gate", help="all, any, threshold, improvement.")]
ConcurrencyOpt = Annotated[int | None, typer.Option("--concurrency", help="Eval requests.")]
RpmOpt = Annotated[int | None, typer.Option("--rpm", help="Eval requests per minute.")]
KeepOpt = Annotated[
    bool | None,
    typer.Option("--keep-on-fail/--delete-on-fail", help="Keep a model below the gate."),
]
ParamOpt = Annotated[
    list[str] | None, typer.Option("--param", help="Any pipeline parameter: NAME=VALUE.")
]
LocationOpt = Annotated[str, typer.Option("--location", help="Vertex AI region.")]
ImageOpt = Annotated[
    str | None,
    typer.Option("--image", help="Component image (default: $GEMINI_SFT_IMAGE or built-in)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _pipeline_func(pipeline: str):
    from gemini_sft_kfp.pipelines.compile import pipeline_by_name

    return pipeline_by_name(pipeline)


# CLI option (function argument) name -> pipeline parameter name.
OPTION_PARAMETERS: dict[str, str] = {
    "project": "project",
    "location": "location",
    "train": "training_data",
    "validation": "validation_data",
    "eval_data": "eval_data",
    "bucket": "bucket",
    "base_model": "base_model",
    "champion_model": "champion_model",
    "epochs": "epochs",
    "adapter_size": "adapter_size",
    "learning_rate_multiplier": "learning_rate_multiplier",
    "display_name": "tuned_model_display_name",
    "label": "labels",
    "alias": "model_aliases",
    "metric": "eval_metric",
    "threshold": "eval_threshold",
    "min_improvement": "eval_min_improvement",
    "gate": "eval_gate",
    "concurrency": "eval_concurrency",
    "rpm": "eval_requests_per_minute",
    "keep_on_fail": "keep_on_fail",
    "kms_key": "kms_key_name",
}


def _named(options: dict[str, Any]) -> dict[str, Any]:
    """The given CLI options under the pipeline's parameter names (None = not given)."""
    from gemini_sft_kfp.pipelines.params import parse_pairs

    named = {
        parameter: options[option]
        for option, parameter in OPTION_PARAMETERS.items()
        if option in options
    }
    labels, aliases = named.get("labels"), named.get("model_aliases")
    named["labels"] = parse_pairs(labels) if labels else None
    named["model_aliases"] = list(aliases) if aliases else None
    return named


def _absolute(path: str | None) -> str | None:
    """Local paths made absolute (tasks run elsewhere); gs:// and https untouched."""
    from gemini_sft_kfp.pipelines.local_runner import absolute_path

    return absolute_path(path) if path else path


def _print_json(data: Any) -> None:
    import orjson

    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def compile_command(
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("compiled"),
    image: ImageOpt = None,
    docs: Annotated[
        Path | None,
        typer.Option("--docs", help="Also write the component reference (docs/components.md)."),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Write nothing; exit 1 if --out differs from a fresh compile "
            "(kfp's version stamp aside).",
        ),
    ] = False,
) -> None:
    """Compile the pipelines to KFP YAML (deterministic: same code -> same bytes)."""
    from gemini_sft_kfp.pipelines.compile import compile_all, resolve_image, stale_files

    if check:
        stale = stale_files(out, image)
        if stale:
            raise UserError(
                f"{out} is stale ({', '.join(stale)}): run 'gemini-sft compile' and commit",
                field="compiled",
            )
        console.print(f"{out} is up to date", highlight=False)
        return
    for path in compile_all(out, image):
        console.print(f"wrote {path}", highlight=False)
    console.print(f"image {resolve_image(image)}", highlight=False)
    if docs is not None:
        from gemini_sft_kfp.pipelines.reference import render_reference

        docs.parent.mkdir(parents=True, exist_ok=True)
        docs.write_text(render_reference(), encoding="utf-8")
        console.print(f"wrote {docs}", highlight=False)


def run_command(
    train: TrainOpt = None,
    validation: ValidationOpt = None,
    eval_data: EvalOpt = None,
    pipeline: PipelineOpt = "sft",
    project: Annotated[
        str | None,
        typer.Option("--project", help="Run against this real project (default: emulator)."),
    ] = None,
    location: LocationOpt = "us-central1",
    bucket: BucketOpt = None,
    base_model: BaseModelOpt = None,
    champion_model: ChampionOpt = None,
    epochs: EpochsOpt = None,
    adapter_size: AdapterOpt = None,
    learning_rate_multiplier: LrOpt = None,
    display_name: DisplayNameOpt = None,
    label: LabelOpt = None,
    alias: AliasOpt = None,
    metric: MetricOpt = None,
    threshold: ThresholdOpt = None,
    min_improvement: ImprovementOpt = None,
    gate: GateOpt = None,
    concurrency: ConcurrencyOpt = None,
    rpm: RpmOpt = None,
    keep_on_fail: KeepOpt = None,
    param: ParamOpt = None,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", help="Where runs and their artifacts go.")
    ] = DEFAULT_LOCAL_OUTPUT,
    tuning_seconds: Annotated[
        float, typer.Option("--tuning-seconds", help="Simulated training time (emulator).")
    ] = 3.0,
    emulator_state: Annotated[
        Path | None,
        typer.Option(
            "--emulator-state",
            help="State of the built-in emulator, kept between runs "
            "(default: OUTPUT_DIR/.emulator).",
        ),
    ] = None,
    fail_on_gate: Annotated[
        bool, typer.Option("--fail-on-gate", help="Exit 2 when the model is rejected.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a pipeline on this machine (KFP local runner); free on the built-in emulator.

    Without --project nothing reaches Google Cloud: the emulator named by
    VERTEX_AI_EMULATOR_HOST / STORAGE_EMULATOR_HOST is used, or one is started for the
    run. Defaults to the shipped sample data. Exit 0 only when the pipeline succeeded
    (1 when it failed; with --fail-on-gate, 2 when the tuned model was rejected).
    """
    from gemini_sft_kfp.pipelines.local_runner import LocalRunOptions, run_local

    if not (train and eval_data) and not SAMPLE_DATA.is_dir():
        raise UserError(
            "give --train and --eval: the sample data (examples/data) ships with the "
            "repository, not with an installed package",
            field="train",
        )
    named = _named(locals())
    named["training_data"] = _absolute(train or str(SAMPLE_DATA / "train.jsonl"))
    named["validation_data"] = _absolute(
        validation if validation is not None else _sample_or_none("validation.jsonl", train)
    )
    named["eval_data"] = _absolute(eval_data or str(SAMPLE_DATA / "eval.jsonl"))
    named.pop("project", None)  # a local run's project decides the backend: see LocalRunOptions
    options = LocalRunOptions(
        pipeline=pipeline,
        project=project,
        named=named,
        extra=param or [],
        output_dir=output_dir,
        tuning_seconds=tuning_seconds,
        emulator_state=emulator_state,
    )
    summary = run_local(options, console=err_console if as_json else console, as_json=as_json)
    if not summary["succeeded"]:
        raise typer.Exit(1)
    if fail_on_gate and summary["verdict"].startswith("rejected"):
        raise typer.Exit(2)


def _sample_or_none(name: str, train: str | None) -> str | None:
    """The sample validation set goes with the sample training set only."""
    return None if train else str(SAMPLE_DATA / name)


def _cloud_arguments(pipeline_func, named: dict[str, Any], extra: list[str]) -> dict[str, Any]:
    from gemini_sft_kfp.pipelines.params import (
        build_arguments,
        check_model_options,
        check_required,
    )

    arguments = build_arguments(pipeline_func, named, extra)
    check_required(pipeline_func, arguments)
    check_model_options(pipeline_func, arguments)
    return arguments


def _pipeline_job(
    *,
    pipeline: str,
    project: str,
    location: str,
    pipeline_root: str,
    arguments: dict[str, Any],
    template: Path | None,
    image: str | None,
    display_name: str | None,
    job_id: str | None,
    labels: dict[str, str],
    encryption_key: str | None,
    workdir: Path,
):
    """A configured ``aiplatform.PipelineJob`` (not yet submitted)."""
    from google.cloud import aiplatform

    from gemini_sft_kfp.core.clients import init_aiplatform
    from gemini_sft_kfp.core.labels import merge_labels
    from gemini_sft_kfp.pipelines.compile import template_for

    if not pipeline_root.startswith("gs://"):
        raise UserError("must be a gs:// URI", field="pipeline-root")
    init_aiplatform(project, location)
    template_path = template or template_for(pipeline, workdir, image)
    return aiplatform.PipelineJob(
        display_name=display_name or f"gemini-{pipeline}",
        template_path=str(template_path),
        job_id=job_id,
        pipeline_root=pipeline_root,
        parameter_values=arguments,
        enable_caching=False,
        encryption_spec_key_name=encryption_key,
        labels=merge_labels(labels) or None,  # Vertex rejects invalid label keys/values
        project=project,
        location=location,
    )


def submit_command(
    project: Annotated[str, typer.Option("--project", help="Google Cloud project.")],
    pipeline_root: Annotated[
        str, typer.Option("--pipeline-root", help="gs:// root for the run's artifacts.")
    ],
    location: LocationOpt = "us-central1",
    pipeline: PipelineOpt = "sft",
    train: TrainOpt = None,
    validation: ValidationOpt = None,
    eval_data: EvalOpt = None,
    bucket: BucketOpt = None,
    base_model: BaseModelOpt = None,
    champion_model: ChampionOpt = None,
    epochs: EpochsOpt = None,
    adapter_size: AdapterOpt = None,
    learning_rate_multiplier: LrOpt = None,
    display_name: DisplayNameOpt = None,
    label: LabelOpt = None,
    alias: AliasOpt = None,
    metric: MetricOpt = None,
    threshold: ThresholdOpt = None,
    min_improvement: ImprovementOpt = None,
    gate: GateOpt = None,
    concurrency: ConcurrencyOpt = None,
    rpm: RpmOpt = None,
    keep_on_fail: KeepOpt = None,
    param: ParamOpt = None,
    template: Annotated[
        Path | None, typer.Option("--template", help="Compiled YAML (default: compile now).")
    ] = None,
    image: ImageOpt = None,
    service_account: Annotated[
        str | None, typer.Option("--service-account", help="The pipeline run's identity.")
    ] = None,
    network: Annotated[str | None, typer.Option("--network", help="VPC network.")] = None,
    run_name: Annotated[str | None, typer.Option("--run-name", help="Run display name.")] = None,
    job_id: Annotated[str | None, typer.Option("--job-id", help="Pipeline job id.")] = None,
    kms_key: Annotated[str | None, typer.Option("--kms-key", help="CMEK of run + job.")] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for the run to end; exit 1 unless it succeeded.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Submit a pipeline run to Vertex AI Pipelines (returns once it is created)."""
    import tempfile

    pipeline_func = _pipeline_func(pipeline)
    named = _named(locals())
    arguments = _cloud_arguments(pipeline_func, named, param or [])
    with tempfile.TemporaryDirectory() as workdir:
        job = _pipeline_job(
            pipeline=pipeline,
            project=project,
            location=location,
            pipeline_root=pipeline_root,
            arguments=arguments,
            template=template,
            image=image,
            display_name=run_name,
            job_id=job_id,
            labels=arguments.get("labels", {}),
            encryption_key=kms_key,
            workdir=Path(workdir),
        )
        job.submit(service_account=service_account, network=network)
    if not as_json:
        console.print(f"submitted {job.resource_name}", highlight=False)
    state = wait_for_pipeline_job(job) if wait else job.state.name
    result = {"pipeline_job": job.resource_name, "state": state}
    if as_json:
        _print_json(result)
    elif wait:
        console.print(f"{job.resource_name} ended {state}", highlight=False)
    if wait and state != "PIPELINE_STATE_SUCCEEDED":
        raise typer.Exit(1)


def wait_for_pipeline_job(job, *, initial: float = 2.0, maximum: float = 60.0) -> str:
    """Poll the run (backoff, transient errors retried) until it ends; its final state."""
    import time

    from gemini_sft_kfp.core.retry import backoff, call_with_retry

    terminal = {
        "PIPELINE_STATE_SUCCEEDED",
        "PIPELINE_STATE_FAILED",
        "PIPELINE_STATE_CANCELLED",
    }
    for delay in backoff(initial, maximum):
        state = call_with_retry(lambda: job.state.name)
        if state in terminal:
            return state
        time.sleep(delay)
    raise AssertionError("unreachable")


def schedule_command(
    cron: Annotated[str, typer.Option("--cron", help='e.g. "0 3 * * 1" or "TZ=UTC 0 3 * * *".')],
    project: Annotated[str, typer.Option("--project", help="Google Cloud project.")],
    pipeline_root: Annotated[
        str, typer.Option("--pipeline-root", help="gs:// root for the runs' artifacts.")
    ],
    location: LocationOpt = "us-central1",
    pipeline: PipelineOpt = "continuous",
    train: TrainOpt = None,
    validation: ValidationOpt = None,
    eval_data: EvalOpt = None,
    bucket: BucketOpt = None,
    base_model: BaseModelOpt = None,
    champion_model: ChampionOpt = None,
    epochs: EpochsOpt = None,
    adapter_size: AdapterOpt = None,
    learning_rate_multiplier: LrOpt = None,
    display_name: DisplayNameOpt = None,
    label: LabelOpt = None,
    alias: AliasOpt = None,
    metric: MetricOpt = None,
    threshold: ThresholdOpt = None,
    min_improvement: ImprovementOpt = None,
    gate: GateOpt = None,
    concurrency: ConcurrencyOpt = None,
    rpm: RpmOpt = None,
    keep_on_fail: KeepOpt = None,
    param: ParamOpt = None,
    template: Annotated[
        Path | None, typer.Option("--template", help="Compiled YAML (default: compile now).")
    ] = None,
    image: ImageOpt = None,
    service_account: Annotated[
        str | None, typer.Option("--service-account", help="The runs' identity.")
    ] = None,
    network: Annotated[str | None, typer.Option("--network", help="VPC network.")] = None,
    schedule_name: Annotated[
        str | None, typer.Option("--schedule-name", help="Schedule display name.")
    ] = None,
    max_run_count: Annotated[
        int | None, typer.Option("--max-run-count", help="Stop after this many runs.")
    ] = None,
    start_time: Annotated[str | None, typer.Option("--start-time", help="RFC 3339.")] = None,
    end_time: Annotated[str | None, typer.Option("--end-time", help="RFC 3339.")] = None,
    kms_key: Annotated[str | None, typer.Option("--kms-key", help="CMEK of runs + jobs.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Schedule recurring runs (default: the continuous pipeline); one run at a time."""
    import tempfile

    pipeline_func = _pipeline_func(pipeline)
    named = _named(locals())
    arguments = _cloud_arguments(pipeline_func, named, param or [])
    with tempfile.TemporaryDirectory() as workdir:
        job = _pipeline_job(
            pipeline=pipeline,
            project=project,
            location=location,
            pipeline_root=pipeline_root,
            arguments=arguments,
            template=template,
            image=image,
            display_name=None,
            job_id=None,
            labels=arguments.get("labels", {}),
            encryption_key=kms_key,
            workdir=Path(workdir),
        )
        schedule = job.create_schedule(
            cron=cron,
            display_name=schedule_name or f"gemini-{pipeline}-schedule",
            start_time=start_time,
            end_time=end_time,
            max_run_count=max_run_count,
            max_concurrent_run_count=1,
            service_account=service_account,
            network=network,
        )
    result = {"schedule": schedule.resource_name, "cron": cron, "max_concurrent_run_count": 1}
    if as_json:
        _print_json(result)
    else:
        console.print(f"scheduled {schedule.resource_name} ({cron})", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the CLI."""
    app.command("compile")(compile_command)
    app.command("run")(run_command)
    app.command("submit")(submit_command)
    app.command("schedule")(schedule_command)
