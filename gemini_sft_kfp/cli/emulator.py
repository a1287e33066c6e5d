"""``gemini-sft emulator``: run the local Vertex AI + Cloud Storage emulator in the foreground."""

from __future__ import annotations

from pathlib import Path

import typer

from gemini_sft_kfp.core.errors import UserError


def emulator(
    host: str = typer.Option("127.0.0.1", help="Interface to bind (loopback by default)."),
    port: int = typer.Option(8090, min=0, max=65535, help="Vertex AI port (0 picks a free one)."),
    gcs_port: int = typer.Option(
        9023, "--gcs-port", min=0, max=65535, help="Cloud Storage port (0: free one)."
    ),
    tuning_seconds: float = typer.Option(
        5.0, "--tuning-seconds", min=0.0, help="How long a simulated tuning job runs."
    ),
    state_dir: Path | None = typer.Option(
        None, "--state-dir", help="Keep jobs, models and buckets here across restarts."
    ),
    max_running_jobs: int = typer.Option(
        0,
        "--max-running-jobs",
        min=0,
        help="Concurrent tuning-job quota (0: unlimited); see --quota-mode.",
    ),
    quota_mode: str = typer.Option(
        "queue",
        "--quota-mode",
        help="Over the quota: 'queue' (the job waits QUEUED, tuningJobState "
        "WAITING_FOR_QUOTA) or 'reject' (create answers 429 RESOURCE_EXHAUSTED).",
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Check every response against the Vertex AI protos (500 if not)."
    ),
    run_pipelines: bool = typer.Option(
        True,
        "--run-pipelines/--no-run-pipelines",
        help="Execute submitted pipeline jobs with the KFP local runner.",
    ),
    project_number: list[str] = typer.Option(
        [],
        "--project-number",
        help="Pin a project's number in resource names: ID=NUMBER (repeatable).",
    ),
    metadata_port: int = typer.Option(
        0,
        "--metadata-port",
        min=0,
        max=65535,
        help="Loopback GCE metadata server (ADC) port (0: free one).",
    ),
    proxy_port: int = typer.Option(
        0,
        "--proxy-port",
        min=0,
        max=65535,
        help="HTTPS proxy relaying *-aiplatform.googleapis.com here (0: free one).",
    ),
    detach: bool = typer.Option(
        False,
        "--detach",
        help="Start in the background and return, printing 'export' lines and "
        'GEMINI_SFT_EMULATOR_PID: eval "$(gemini-sft emulator --detach)"; '
        "stop with kill $GEMINI_SFT_EMULATOR_PID.",
    ),
) -> None:
    """Run the emulator until SIGINT/SIGTERM; print the environment clients need.

    The printed lines are enough for unmodified Google code: the emulator hosts, the
    project and location, Application Default Credentials from a loopback metadata
    server, and an HTTPS proxy with its CA bundle for google-genai. Training and model
    answers are simulated (tuned models retrieve the closest training example); see
    emulator/README.md.
    """
    import signal
    import threading

    if quota_mode not in ("queue", "reject"):
        raise UserError("--quota-mode must be 'queue' or 'reject'", field="quota-mode")
    pinned = {}
    for entry in project_number:
        project_id, _, number = entry.partition("=")
        if not project_id or not (number.isascii() and number.isdigit()):
            raise UserError(f"--project-number {entry!r}: expected ID=NUMBER, e.g. my-proj=42")
        pinned[project_id] = number
    if state_dir is not None:
        _check_state_dir(state_dir)
    if detach:
        from gemini_sft_kfp.cli.emulator_detach import start_detached

        args = [
            *("--host", host, "--port", str(port), "--gcs-port", str(gcs_port)),
            *("--tuning-seconds", str(tuning_seconds), "--quota-mode", quota_mode),
            *("--max-running-jobs", str(max_running_jobs)),
            *("--metadata-port", str(metadata_port), "--proxy-port", str(proxy_port)),
            "--run-pipelines" if run_pipelines else "--no-run-pipelines",
            *(["--strict"] if strict else []),
            *(["--state-dir", str(state_dir.resolve())] if state_dir else []),
            *(arg for entry in project_number for arg in ("--project-number", entry)),
        ]
        start_detached(args, state_dir)
        return
    from gemini_sft_kfp.emulator import Emulator

    try:
        running = Emulator(
            host=host,
            port=port,
            gcs_port=gcs_port,
            tuning_seconds=tuning_seconds,
            state_dir=state_dir,
            run_pipelines=run_pipelines,
            max_running_tuning_jobs=max_running_jobs or None,
            strict=strict,
            project_numbers=pinned,
            metadata_port=metadata_port,
            https_proxy_port=proxy_port,
            joinable=True,  # runs with --emulator-state on the same directory use this one
            quota_mode=quota_mode,
        )
    except OSError as exc:
        if exc.filename is not None:  # the state directory, not a port
            raise UserError(f"cannot use: {exc.strerror}", file=str(exc.filename)) from None
        raise UserError(
            f"cannot listen on {host} (port {port} / gcs port {gcs_port}): {exc.strerror}; "
            "pass --port / --gcs-port (0 picks a free port)"
        ) from None
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with running:
        for key, value in {**running.env, **running.sdk_env}.items():
            typer.echo(f"{key}={value}")
        typer.echo(
            f"# emulator ready (simulated tuning: {tuning_seconds:g} s; "
            f"state: {state_dir or 'in memory'}); Ctrl-C to stop",
            err=True,
        )
        while not stop.wait(0.5):
            pass
    typer.echo("# emulator stopped", err=True)


def _check_state_dir(state_dir: Path) -> None:
    """``--state-dir`` as a directory the emulator can write (a file, or a read-only file
    system, is said as such before any port is opened, not blamed on a port)."""
    import tempfile

    from gemini_sft_kfp.core.outputs import check_output_dir

    check_output_dir(state_dir, field="state-dir")
    try:
        with tempfile.TemporaryFile(dir=state_dir):
            pass
    except OSError as exc:
        raise UserError(
            f"cannot write the state directory: {exc.strerror}",
            file=str(state_dir),
            field="state-dir",
        ) from None


def register(app: typer.Typer) -> None:
    """Add this module's commands to the CLI."""
    app.command("emulator")(emulator)
