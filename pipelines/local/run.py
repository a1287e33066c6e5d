"""``gemini-sft run``: one pipeline run on this machine, from options to verdict.

Picks the backend (emulator unless ``--project``), creates the emulator bucket, fills
in local defaults (fast polling against the emulator), runs the pipeline on the KFP
local runner with one progress line per task, and prints the summary.

The pipeline is a shipped one (``sft``, ``continuous``) or the user's own
(``--pipeline-file my_pipeline.py:my_pipeline`` or a compiled YAML; from Python,
``rehearse``): same progress, summary, resume and ``--runner docker``. Its control flow
is checked first and decided as Vertex decides it (``control_flow.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gemini_sft_kfp.pipelines.local import cleanup, disk
from gemini_sft_kfp.pipelines.local.backend import (
    LOCAL_BUCKET,
    Backend,
    ensure_bucket,
    local_backend,
)
from gemini_sft_kfp.pipelines.local.kfp_runner import RunResult, TaskEvent, run_pipeline_locally
from rich.console import Console

from gemini_sft_kfp.core import defaults
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.lineage import DEFAULT_LINEAGE
from gemini_sft_kfp.core.project import DEFAULT_LOCATION, EMULATOR_PROJECT

if TYPE_CHECKING:
    from gemini_sft_kfp.pipelines.local.resume import Decision

# Against the emulator a job takes seconds: poll fast so the run does too.
EMULATOR_POLLING = {"poll_initial_seconds": 0.25, "poll_max_seconds": 1.0}
# Parameters that may name local files.
DATA_PARAMETERS = ("training_data", "validation_data", "eval_data")


@dataclass
class LocalRunOptions:
    pipeline: str | Callable = "sft"  # a shipped pipeline's name, or a @dsl.pipeline
    pipeline_file: str | None = None  # FILE.py[:NAME] or compiled YAML; wins over pipeline
    project: str | None = None  # None: the emulator
    named: dict[str, Any] = field(default_factory=dict)
    extra: list[str] = field(default_factory=list)
    output_dir: Path = Path(".gemini-sft/runs")
    tuning_seconds: float = 3.0
    emulator_state: Path | None = None  # None: <output_dir>/.emulator (kept between runs)
    runner: str = "subprocess"  # or "docker": every task in the component image
    image: str | None = None  # --runner docker: None = GEMINI_SFT_IMAGE or gemini-sft-kfp:VER
    new_job: bool = False  # never resume the job of a dead earlier run (local_resume.py)

    @property
    def emulator_state_dir(self) -> Path:
        """Absolute: tasks run with the run directory as working directory."""
        return (self.emulator_state or self.output_dir / ".emulator").resolve()


def resolve_pipeline(options: LocalRunOptions) -> tuple[Any, str]:
    """The pipeline to run and the name progress shows for it."""
    from gemini_sft_kfp.pipelines.local.pipeline_file import is_pipeline, load_pipeline_file

    if options.pipeline_file:
        pipeline_func = load_pipeline_file(options.pipeline_file)
        return pipeline_func, pipeline_func.pipeline_spec.pipeline_info.name
    if isinstance(options.pipeline, str):
        from gemini_sft_kfp.pipelines.compile import pipeline_by_name

        return pipeline_by_name(options.pipeline), options.pipeline
    if not is_pipeline(options.pipeline):
        raise UserError(
            "not a pipeline: pass a @dsl.pipeline function, FILE.py:NAME or a compiled YAML",
            field="pipeline",
        )
    return options.pipeline, options.pipeline.pipeline_spec.pipeline_info.name


def local_arguments(pipeline_func, options: LocalRunOptions, backend: Backend) -> dict[str, Any]:
    """The pipeline's arguments for a local run (typed, required ones checked)."""
    from gemini_sft_kfp.pipelines.params import (
        build_arguments,
        check_required,
        parameter_types,
    )

    named = dict(options.named)
    named["project"] = options.project or EMULATOR_PROJECT
    if backend.simulated:
        named["bucket"] = named.get("bucket") or LOCAL_BUCKET
        for key, value in EMULATOR_POLLING.items():
            named.setdefault(key, value)
    elif not named.get("bucket"):
        raise UserError("a bucket is needed to run against Google Cloud", field="bucket")
    arguments = build_arguments(pipeline_func, named, options.extra)
    for key in DATA_PARAMETERS:
        if arguments.get(key):
            arguments[key] = absolute_path(arguments[key])
    if "champion_model" in parameter_types(pipeline_func) and not arguments.get("champion_model"):
        from gemini_sft_kfp.core.lineage import lineage_of

        alias = arguments.get("champion_alias") or defaults.CHAMPION_ALIAS
        lineage = lineage_of(
            arguments.get("lineage", ""), arguments.get("tuned_model_display_name", "")
        )
        arguments["champion_model"] = find_champion_model(
            arguments["project"], arguments.get("location", DEFAULT_LOCATION), alias, lineage
        )
    check_required(pipeline_func, arguments)
    from gemini_sft_kfp.pipelines.checks import check_run_arguments

    check_run_arguments(pipeline_func, arguments, read_remote=False)
    return arguments


def absolute_path(path: str) -> str:
    """A local path made absolute (tasks run in the run directory); URIs untouched."""
    if "://" in path:
        return path
    from gemini_sft_kfp.core.inputs import check_input_file

    check_input_file(Path(path).expanduser())  # a loop or a FIFO is said, not "not found"
    return str(Path(path).expanduser().resolve())


def find_champion_model(
    project: str, location: str, alias: str, lineage: str = DEFAULT_LINEAGE
) -> str:
    """The one model of ``lineage`` with a version holding ``alias`` (continuous runs
    without ``--champion-model``); a UserError when there is none or more than one."""
    from gemini_sft_kfp.core.lineage import alias_holders
    from gemini_sft_kfp.core.registry import Registry

    holders = sorted({v.model for v in alias_holders(Registry(project, location), lineage, alias)})
    if len(holders) == 1:
        return holders[0]
    if not holders:
        raise UserError(
            f"no model of lineage {lineage!r} holds the alias {alias!r} yet: run the sft "
            "pipeline first (gemini-sft run), pass --param lineage=NAME or --champion-model",
            field="champion_model",
        )
    raise UserError(
        f"{len(holders)} models of lineage {lineage!r} hold the alias {alias!r} "
        f"({', '.join(holders)}): promote one (gemini-sft models promote) or pass "
        "--champion-model",
        field="champion_model",
    )


class _Progress:
    """One line per task start and end, so a long tuning wait never looks hung."""

    def __init__(self, console: Console, simulated: bool) -> None:
        self.console = console
        self.simulated = simulated

    def __call__(self, event: TaskEvent) -> None:
        if event.status is None:
            note = " (simulated training)" if self.simulated and "wait" in event.task else ""
            self.console.print(f"[dim]  … {event.task}{note}[/]", highlight=False)
        elif event.status == "SUCCESS":
            self.console.print(
                f"  [green]✓[/] {event.task} [dim]{event.seconds:.1f}s[/]", highlight=False
            )
        elif event.status == "SKIPPED":
            self.console.print(f"  [dim]– {event.task} skipped[/]", highlight=False)
        else:
            self.console.print(
                f"  [red]✗[/] {event.task} [dim]{event.seconds:.1f}s[/]", highlight=False
            )


def _print_decision(console: Console, decision: Decision) -> None:
    """What the resume decision found in the output directory (``local_resume.decide``)."""
    if decision.ended_tasks:
        console.print(
            f"[yellow]ended {decision.ended_tasks} task(s) left running by an earlier run "
            "that ended without cleaning up[/]",
            highlight=False,
        )
    for name in decision.not_resumed:
        console.print(
            f"[yellow]not resuming tuning job {name} of a dead earlier run (--new-job): it "
            "is kept as it is; cancel it (or delete its model) if you do not need it[/]",
            highlight=False,
        )
    if decision.resumed:
        name, state, pid = decision.resumed
        what = "reusing the tuned model of" if state.endswith("SUCCEEDED") else "resuming"
        console.print(
            f"[yellow]{what} tuning job {name}, started for the same inputs by an earlier "
            f"run (process {pid}) that ended without cleaning up; pass --new-job to start "
            "a new one[/]",
            highlight=False,
        )
    for line in decision.kept:
        console.print(f"[yellow]{line}[/]", highlight=False)


RUNNERS = ("subprocess", "docker")


@contextlib.contextmanager
def task_runner(
    options: LocalRunOptions, pipeline_func, arguments: dict[str, Any], backend: Backend
) -> Iterator[tuple[Any, str, Callable[[], None] | None]]:
    """The KFP runner for ``options.runner``, how progress names it, and what stops its
    running task when the run is interrupted (None: the task is our child process)."""
    if options.runner not in RUNNERS:
        raise UserError(
            f"unknown runner {options.runner!r}; choose one of: {', '.join(RUNNERS)}",
            field="runner",
        )
    if options.runner == "subprocess":
        yield None, "", None
        return
    from gemini_sft_kfp.pipelines.local.docker_runner import (
        check_image,
        docker_runner,
        executor_images,
    )
    from gemini_sft_kfp.pipelines.local.docker_tasks import run_labels, stop_run_tasks

    from gemini_sft_kfp.runtime.image import local_image

    image = options.image or local_image()
    data_files = [arguments[key] for key in DATA_PARAMETERS if arguments.get(key)]
    runner = docker_runner(
        [f for f in data_files if "://" not in f],
        emulated=backend.simulated,
        labels=run_labels(options.output_dir),
    )
    check_image(image)
    with executor_images(pipeline_func, image):
        yield runner, f" in Docker (image {image})", lambda: stop_run_tasks(options.output_dir)


@contextlib.contextmanager
def exclusive(output_dir: Path) -> Iterator[None]:
    """One run at a time per output directory: runs there share the emulator's state,
    and each run finds its own directory as the newest one."""
    import fcntl

    from gemini_sft_kfp.core.outputs import check_output_dir

    check_output_dir(output_dir, field="output_dir")  # a FIFO or a loop said as such
    with open(output_dir / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(
                "another gemini-sft run is using this output directory; wait for it or "
                "pass a different --output-dir",
                file=str(output_dir),
            ) from None
        yield


def run_local(
    options: LocalRunOptions, *, console: Console, as_json: bool = False
) -> dict[str, Any]:
    """Run, print progress and the summary; returns the summary (``succeeded``, ``verdict``)."""
    from gemini_sft_kfp.pipelines.local.control_flow import check_constructs
    from gemini_sft_kfp.pipelines.local.summary import build_summary, render

    pipeline_func, pipeline_label = resolve_pipeline(options)
    check_constructs(pipeline_func.pipeline_spec)
    with (
        exclusive(options.output_dir),
        local_backend(
            use_cloud=options.project is not None,
            tuning_seconds=options.tuning_seconds,
            state_dir=options.emulator_state_dir,
        ) as backend,
    ):
        arguments = local_arguments(pipeline_func, options, backend)
        from gemini_sft_kfp.components.check_run_inputs.executor import check_data

        check_data(arguments, read_remote=True)  # gs:// eval data too, before anything runs
        disk.check_room(
            arguments, options.output_dir, options.emulator_state_dir if backend.simulated else None
        )
        if backend.simulated:
            console.print(
                f"[yellow]Local run on the Vertex AI emulator ({backend.vertex_url}): "
                "training, loss curves and the tuned model's answers are simulated; "
                "nothing is billed.[/]",
                highlight=False,
            )
            ensure_bucket(arguments["project"], arguments["bucket"])
        from gemini_sft_kfp.pipelines.local import resume as local_resume

        inputs = local_resume.fingerprint(pipeline_label, arguments)
        location = arguments.get("location", DEFAULT_LOCATION)
        project = arguments["project"]
        decision = local_resume.decide(
            options.output_dir, inputs, project, location, new_job=options.new_job
        )
        _print_decision(console, decision)
        run_key = decision.run_key
        with (
            local_resume.resuming(run_key, options.output_dir),  # before the runner:
            task_runner(options, pipeline_func, arguments, backend) as (runner, where, stop),
        ):  # the docker runner hands the containers the environment it is made with
            console.print(
                f"Running pipeline [bold]{pipeline_label}[/] on the KFP local runner{where}",
                highlight=False,
            )
            outcome: dict[str, bool] = {"interrupted": True}  # until the run returns
            with local_resume.inflight(
                options.output_dir,
                inputs,
                options.runner,
                run_key=run_key,
                taken_over=decision.taken_over,
                still_pending=lambda: local_resume.jobs_pending(
                    lambda: cleanup.tuning_client(project, location),
                    run_key,
                    finished_count=outcome["interrupted"],
                )(),
            ):
                result: RunResult = run_pipeline_locally(
                    pipeline_func,
                    arguments,
                    pipeline_root=options.output_dir,
                    on_event=_Progress(console, backend.simulated),
                    runner=runner,
                    on_interrupt=stop,
                )
                outcome["interrupted"] = result.interrupted
                if result.interrupted:
                    cancelled = cleanup.cancel_left_running(result, project, location, run_key)
                    if cancelled:
                        console.print(f"[yellow]interrupted: cancelled tuning job {cancelled}[/]")
                summary = build_summary(
                    result,
                    backend=backend.kind,
                    simulated=backend.simulated,
                    keep_on_fail=bool(arguments.get("keep_on_fail")),
                )
                if cleanup.exit_handler_silent(result):
                    summary["cleanup"] = cleanup.account_for_run(
                        project, location, run_key, bool(arguments.get("keep_on_fail"))
                    )
    full = None if result.succeeded else disk.disk_full_note(result, options.output_dir)
    if full:
        summary["error"] = [full, *summary.get("error", [])]
    if as_json:
        import sys

        import orjson

        from gemini_sft_kfp.cli.output import json_text

        sys.stdout.write(json_text(summary, option=orjson.OPT_INDENT_2) + "\n")
    else:
        render(summary, console)
    return summary


def rehearse(
    pipeline: str | Callable,
    arguments: dict[str, Any] | None = None,
    *,
    project: str | None = None,
    location: str = DEFAULT_LOCATION,
    output_dir: Path | str = Path(".gemini-sft/runs"),
    runner: str = "subprocess",
    image: str | None = None,
    tuning_seconds: float = 3.0,
    emulator_state: Path | str | None = None,
    new_job: bool = False,
    console: Console | None = None,
) -> dict[str, Any]:
    """Run a pipeline locally (``gemini-sft run --pipeline-file`` from Python): on the
    built-in emulator unless ``project`` is given; returns the summary dict
    (``succeeded``, ``verdict``, ``tasks``, ``failed_tasks``, ``error``...).

    ``pipeline``: a ``@dsl.pipeline`` function, ``"my_pipeline.py:my_pipeline"``, a
    compiled ``.yaml`` path, or ``"sft"`` / ``"continuous"``. ``arguments``: the
    pipeline's parameters (strings are typed as ``--param`` values are); a ``project``
    and ``location`` parameter is filled in like the shipped pipelines'. A bad argument
    or construct raises ``UserError`` before anything runs.
    """
    reference = str(pipeline) if isinstance(pipeline, Path) else pipeline
    is_file = isinstance(reference, str) and (
        ":" in reference or reference.endswith((".py", ".yaml", ".yml", ".json"))
    )
    named = dict(arguments or {})
    named.setdefault("location", location)
    for key in DATA_PARAMETERS:
        if isinstance(named.get(key), str):
            named[key] = absolute_path(named[key])
    options = LocalRunOptions(
        pipeline="sft" if is_file else reference,
        pipeline_file=reference if is_file else None,
        project=project,
        named=named,
        output_dir=Path(output_dir),
        tuning_seconds=tuning_seconds,
        emulator_state=Path(emulator_state) if emulator_state else None,
        runner=runner,
        image=image,
        new_job=new_job,
    )
    return run_local(options, console=console or Console(stderr=True))
