"""The ``gemini-sft`` command line.

Each command group lives in its own module with a ``register(app)`` function, so the
groups stay small and the SDKs they need are imported only when a command runs.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console
from rich.markup import escape

from gemini_sft_kfp.core.errors import CloudJobError, UserError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    help="Gemini supervised fine-tuning on Vertex AI with Kubeflow Pipelines.",
)

# Modules under gemini_sft_kfp.cli that add commands; each has register(app: typer.Typer).
COMMAND_MODULES = ("dataset", "emulator", "evaluate", "image", "jobs", "models", "pipeline")

err_console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Gemini supervised fine-tuning on Vertex AI with Kubeflow Pipelines."""


@app.command()
def version() -> None:
    """Print the installed gemini-sft-kfp version."""
    from importlib.metadata import version as dist_version

    typer.echo(dist_version("gemini-sft-kfp"))


_registered: list[str] = []


def _register_all() -> None:
    if _registered:  # idempotent: main() may run more than once in one process (tests)
        return
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"gemini_sft_kfp.cli.{name}")
        module.register(app)
        _registered.append(name)


def _user_mistake(exc: BaseException) -> str | None:
    """The one-line message for an exception that is the user's environment, not a bug:
    a path that cannot be read or written, or no Google Cloud credentials."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    from gemini_sft_kfp.core.outputs import is_disk_error

    if is_disk_error(exc):  # a write with no file name on it (a flush, a close)
        return f"{exc.strerror}: free some space (or use another disk) and try again"
    from gemini_sft_kfp.core.retry import Unreachable  # only on this error path: start-up

    if isinstance(exc, Unreachable):
        return str(exc)
    if type(exc).__name__ == "DefaultCredentialsError":  # google.auth, imported lazily
        return (
            "no Google Cloud credentials: run 'gcloud auth application-default login', or "
            "point VERTEX_AI_EMULATOR_HOST / STORAGE_EMULATOR_HOST at 'gemini-sft emulator'"
        )
    return None


def _print_error(label: str, message: str) -> None:
    # escape: "[field]" in the message is not Rich markup; soft_wrap: one line
    from gemini_sft_kfp.cli.output import one_line

    err_console.print(
        f"[bold red]{label}:[/] {escape(one_line(message))}", highlight=False, soft_wrap=True
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point: user mistakes become a one-line error and exit 1, never a traceback."""
    _register_all()
    try:
        app(args=argv, prog_name="gemini-sft")
    except UserError as exc:
        _print_error("error", str(exc))
        sys.exit(1)
    except CloudJobError as exc:
        _print_error("cloud job failed", str(exc))
        sys.exit(1)
    except Exception as exc:
        message = _user_mistake(exc)
        if message is None:
            raise
        _print_error("error", message)
        sys.exit(1)
