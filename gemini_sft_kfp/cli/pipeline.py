"""`gemini-sft` commands: compile, run (locally, free), submit and schedule (Vertex AI).

The pipeline options come from the parameter table (``pipelines/parameters.py``,
``PipelineOptions`` here) and are shared by run, submit and schedule; any parameter
without an option of its own is ``--param NAME=VALUE`` (typed from the pipeline's
signature). The commands only parse
and print: local runs are ``pipelines.local.run``, Vertex AI Pipelines calls are
``pipelines.vertex``. SDKs and kfp are imported inside the commands, so
``gemini-sft --help`` stays fast.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, get_type_hints

import typer
from rich.console import Console

from gemini_sft_kfp.core.defaults import LOCATION as DEFAULT_LOCATION
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.pipelines.parameters import BY_NAME, PARAMETERS, Parameter

console = Console()
err_console = Console(stderr=True)

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
SAMPLE_PREFIX = {"preference": "preference_"}
"""The sample files of a pipeline: ``<prefix>train.jsonl``, ``validation``, ``eval``."""
DEFAULT_LOCAL_OUTPUT = Path(".gemini-sft/runs")

# --- options shared by run / submit / schedule: generated from the parameter table ---
PipelineOpt = Annotated[
    str,
    typer.Option(
        "--pipeline",
        help="sft, continuous (tune the current champion) or preference (preference "
        "tuning, from the champion when there is one).",
    ),
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

COMMAND_OWNED = frozenset({"project", "location"})
"""Parameters each command declares itself (run's --project picks the backend)."""


def _option_type(parameter: Parameter) -> Any:
    """The CLI's type of a parameter's option: dicts and lists are repeated strings."""
    if parameter.type in (dict, list):
        return list[str] | None
    return parameter.type | None


def _pipeline_options() -> type:
    """``PipelineOptions``: one field per parameter that has a CLI option, plus --param."""
    fields = [
        (
            p.name,
            Annotated[_option_type(p), typer.Option(p.flag, help=p.short_help or None)],
            dataclasses.field(default=None),
        )
        for p in PARAMETERS
        if p.flag and p.name not in COMMAND_OWNED
    ]
    fields.append(("param", ParamOpt, dataclasses.field(default=None)))
    return dataclasses.make_dataclass("PipelineOptions", fields)


PipelineOptions = _pipeline_options()
"""The pipeline options run, submit and schedule all take (None: not given)."""


KEYWORD_ONLY = inspect.Parameter.KEYWORD_ONLY


def with_option_groups(command: Callable[..., None]) -> Callable[..., None]:
    """Show typer each option-group parameter (a dataclass above) as its fields, in its
    place; the command receives the group filled in. One declaration, three commands."""
    hints = get_type_hints(command, include_extras=True)
    groups: dict[str, type] = {}
    parameters: list[inspect.Parameter] = []
    for name, parameter in inspect.signature(command).parameters.items():
        hint = hints[name]
        if not dataclasses.is_dataclass(hint):
            parameters.append(parameter.replace(kind=KEYWORD_ONLY, annotation=hint))
            continue
        groups[name] = hint
        field_hints = get_type_hints(hint, include_extras=True)
        parameters.extend(
            inspect.Parameter(
                f.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=f.default,
                annotation=field_hints[f.name],
            )
            for f in dataclasses.fields(hint)
        )

    @functools.wraps(command)
    def parsed(**options: Any) -> None:
        for name, group in groups.items():
            options[name] = group(
                **{f.name: options.pop(f.name) for f in dataclasses.fields(group)}
            )
        return command(**options)

    parsed.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    parsed.__annotations__ = {p.name: p.annotation for p in parameters}
    return parsed


def _named(options: Any, **where: Any) -> dict[str, Any]:
    """The given options under their pipeline parameter names (None: not given).

    ``--label k=v`` (repeated) becomes a dict; list options (``--alias``,
    ``--judge-metric``) are repeated or comma-separated.
    """
    from gemini_sft_kfp.pipelines.params import parse_pairs

    named = {name: value for name, value in where.items() if value is not None}
    for field in dataclasses.fields(options):
        value = getattr(options, field.name)
        parameter = BY_NAME.get(field.name)
        if value is None or parameter is None:
            continue
        if parameter.type is dict:
            value = parse_pairs(value) if value else None
        elif parameter.type is list:
            value = [item.strip() for given in value for item in given.split(",") if item.strip()]
            value = value or None
        if value is not None:
            named[field.name] = value
    return named


def _absolute(path: str | None) -> str | None:
    """Local paths made absolute (tasks run elsewhere); gs:// and https untouched."""
    from gemini_sft_kfp.pipelines.local.run import absolute_path

    return absolute_path(path) if path else path


def _print_json(data: Any) -> None:
    import orjson

    from gemini_sft_kfp.cli.output import json_text

    sys.stdout.write(json_text(data, option=orjson.OPT_INDENT_2) + "\n")


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
    if docs is not None:  # checked before any file is written: all or nothing
        from gemini_sft_kfp.core.outputs import check_output_file

        check_output_file(docs, field="docs")
    for path in compile_all(out, image):
        console.print(f"wrote {path}", highlight=False)
    console.print(f"image {resolve_image(image)}", highlight=False)
    from gemini_sft_kfp.runtime.image import IMAGE_FIX, is_placeholder

    if is_placeholder(resolve_image(image)):
        err_console.print(
            f"[yellow]warning: the placeholder image cannot be pulled by Vertex AI: {IMAGE_FIX}[/]",
            highlight=False,
        )
    if docs is not None:
        from gemini_sft_kfp.core.outputs import staged_files
        from gemini_sft_kfp.pipelines.reference import render_reference

        docs.parent.mkdir(parents=True, exist_ok=True)
        with staged_files(docs) as (staged,):  # all or nothing, never onto a FIFO
            staged.write_text(render_reference(), encoding="utf-8")
        console.print(f"wrote {docs}", highlight=False)


@with_option_groups
def run_command(
    *,
    pipeline: PipelineOpt = "sft",
    project: Annotated[
        str | None,
        typer.Option("--project", help="Run against this real project (default: emulator)."),
    ] = None,
    location: LocationOpt = DEFAULT_LOCATION,
    params: PipelineOptions,
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
    runner: Annotated[
        str,
        typer.Option(
            "--runner",
            help="subprocess (tasks in this Python) or docker (every task in the image).",
        ),
    ] = "subprocess",
    image: ImageOpt = None,
    new_job: Annotated[
        bool,
        typer.Option(
            "--new-job",
            help="Do not reuse the tuning job (running or finished) of a killed earlier "
            "run with the same inputs; start a new one. The earlier job is left as it is.",
        ),
    ] = False,
    pipeline_file: Annotated[
        str | None,
        typer.Option(
            "--pipeline-file",
            help="Your own pipeline instead of --pipeline: FILE.py[:NAME] (a @dsl.pipeline) "
            "or a compiled FILE.yaml; its parameters by --param NAME=VALUE.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a pipeline on this machine (KFP local runner); free on the built-in emulator.

    Without --project nothing reaches Google Cloud: the emulator named by
    VERTEX_AI_EMULATOR_HOST / STORAGE_EMULATOR_HOST is used, or one is started for the
    run. Defaults to the shipped sample data. Exit 0 only when the pipeline succeeded
    (1 when it failed; with --fail-on-gate, 2 when the tuned model was rejected).
    """
    from gemini_sft_kfp.pipelines.local.run import LocalRunOptions, run_local

    train, eval_data = params.training_data, params.eval_data
    if not (train and eval_data) and not SAMPLE_DATA.is_dir() and not pipeline_file:
        raise UserError(
            "give --train and --eval: the sample data (examples/data) ships with the "
            "repository, not with an installed package",
            field="train",
        )
    named = _named(params, location=location)
    sample = functools.partial(_sample_file, pipeline)
    # "" is the user's (empty) value, refused by the input check: only None means the sample
    named["training_data"] = _absolute(train if train is not None else sample("train"))
    named["validation_data"] = _absolute(
        params.validation_data
        if params.validation_data is not None
        else None
        if train is not None  # the sample validation set goes with the sample training set
        else sample("validation")
    )
    named["eval_data"] = _absolute(eval_data if eval_data is not None else sample("eval"))
    options = LocalRunOptions(
        pipeline=pipeline,
        pipeline_file=pipeline_file,
        project=project,
        named=named,
        extra=params.param or [],
        output_dir=output_dir,
        tuning_seconds=tuning_seconds,
        emulator_state=emulator_state,
        runner=runner,
        image=image,
        new_job=new_job,
    )
    summary = run_local(options, console=err_console if as_json else console, as_json=as_json)
    if not summary["succeeded"]:
        raise typer.Exit(1)
    if fail_on_gate and summary["verdict"].startswith("rejected"):
        raise typer.Exit(2)


def _sample_file(pipeline: str, split: str) -> str | None:
    """The shipped sample file of ``pipeline``'s ``split`` (train, validation, eval); None
    in an installed package (the samples ship with the repository only)."""
    path = SAMPLE_DATA / f"{SAMPLE_PREFIX.get(pipeline, '')}{split}.jsonl"
    return str(path) if path.is_file() else None


TemplateOpt = Annotated[
    Path | None, typer.Option("--template", help="Compiled YAML (default: compile now).")
]
NetworkOpt = Annotated[str | None, typer.Option("--network", help="VPC network.")]
CloudProjectOpt = Annotated[str, typer.Option("--project", help="Google Cloud project.")]


def _cloud_run(command: dict[str, Any]):
    """Where and what to run, from a submit/schedule command's arguments; the pipeline's
    arguments are typed and checked before anything reaches Vertex AI."""
    from gemini_sft_kfp.pipelines.vertex import CloudRun, Template, cloud_arguments

    params = command["params"]
    where = {key: command[key] for key in ("pipeline", "project", "location", "pipeline_root")}
    named = _named(params, project=command["project"], location=command["location"])
    template = Template.load(command["template"]) if command["template"] is not None else None
    return CloudRun(
        **where,
        arguments=cloud_arguments(where["pipeline"], named, params.param or [], template=template),
        template=template,
        image=command["image"],
        encryption_key=params.kms_key_name,
    )


@with_option_groups
def submit_command(
    *,
    project: CloudProjectOpt,
    pipeline_root: Annotated[
        str, typer.Option("--pipeline-root", help="gs:// root for the run's artifacts.")
    ],
    location: LocationOpt = DEFAULT_LOCATION,
    pipeline: PipelineOpt = "sft",
    params: PipelineOptions,
    template: TemplateOpt = None,
    image: ImageOpt = None,
    service_account: Annotated[
        str | None, typer.Option("--service-account", help="The pipeline run's identity.")
    ] = None,
    network: NetworkOpt = None,
    run_name: Annotated[str | None, typer.Option("--run-name", help="Run display name.")] = None,
    job_id: Annotated[str | None, typer.Option("--job-id", help="Pipeline job id.")] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for the run to end; exit 1 unless it succeeded.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Submit a pipeline run to Vertex AI Pipelines (returns once it is created)."""
    from gemini_sft_kfp.pipelines import vertex

    run = _cloud_run(locals())
    job = vertex.submit(
        run,
        display_name=run_name,
        job_id=job_id,
        service_account=service_account,
        network=network,
    )
    if not as_json:
        console.print(f"submitted {job.resource_name}", highlight=False)
    state = vertex.wait_for_pipeline_job(job) if wait else job.state.name
    result = {"pipeline_job": job.resource_name, "state": state}
    if as_json:
        _print_json(result)
    elif wait:
        console.print(vertex.end_line(job, state), highlight=False)
    if wait and state != "PIPELINE_STATE_SUCCEEDED":
        raise typer.Exit(1)


@with_option_groups
def schedule_command(
    *,
    cron: Annotated[str, typer.Option("--cron", help='e.g. "0 3 * * 1" or "TZ=UTC 0 3 * * *".')],
    project: CloudProjectOpt,
    pipeline_root: Annotated[
        str, typer.Option("--pipeline-root", help="gs:// root for the runs' artifacts.")
    ],
    location: LocationOpt = DEFAULT_LOCATION,
    pipeline: PipelineOpt = "continuous",
    params: PipelineOptions,
    template: TemplateOpt = None,
    image: ImageOpt = None,
    service_account: Annotated[
        str | None, typer.Option("--service-account", help="The runs' identity.")
    ] = None,
    network: NetworkOpt = None,
    schedule_name: Annotated[
        str | None, typer.Option("--schedule-name", help="Schedule display name.")
    ] = None,
    max_run_count: Annotated[
        int | None, typer.Option("--max-run-count", help="Stop after this many runs.")
    ] = None,
    start_time: Annotated[str | None, typer.Option("--start-time", help="RFC 3339.")] = None,
    end_time: Annotated[str | None, typer.Option("--end-time", help="RFC 3339.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Schedule recurring runs (default: the continuous pipeline); one run at a time."""
    from gemini_sft_kfp.pipelines import vertex

    run = _cloud_run(locals())
    schedule = vertex.schedule(
        run,
        cron=cron,
        display_name=schedule_name,
        start_time=start_time,
        end_time=end_time,
        max_run_count=max_run_count,
        service_account=service_account,
        network=network,
    )
    result = {
        "schedule": schedule.resource_name,
        "cron": cron,
        "max_concurrent_run_count": vertex.MAX_CONCURRENT_RUNS,
    }
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
