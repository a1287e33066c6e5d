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
COMMAND_MODULES = ("dataset", "emulator", "evaluate", "image", "models", "pipeline")

err_console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Gemini supervised fine-tuning on Vertex AI with Kubeflow Pipelines."""


@app.command()
def version() -> None:
    """Print the installed gemini-sft-kfp version."""
    from importlib.metadata import version as dist_version

    typer.echo(dist_version("gemini-sft-kfp"))


def _register_all() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"gemini_sft_kfp.cli.{name}")
        module.register(app)


def main() -> None:
    """Entry point: user mistakes become a one-line error and exit 1, never a traceback."""
    _register_all()
    try:
        app()
    except UserError as exc:
        # escape: "[field]" in the message is not Rich markup; soft_wrap: one line
        err_console.print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(1)
    except CloudJobError as exc:
        err_console.print(
            f"[bold red]cloud job failed:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(1)
