"""``gemini-sft image build``: the component image, from the repository's Dockerfile."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from gemini_sft_kfp.core.errors import UserError

image_app = typer.Typer(no_args_is_help=True, help="The component image every task runs in.")


def _default_context() -> Path:
    """This checkout (the folder holding the Dockerfile beside ``gemini_sft_kfp/``)."""
    for candidate in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (candidate / "Dockerfile").is_file() and (candidate / "pyproject.toml").is_file():
            return candidate
    raise UserError(
        "no Dockerfile here: run from a gemini-sft-kfp checkout or pass --context DIR",
        field="context",
    )


@image_app.command("build")
def build_command(
    tag: Annotated[
        str | None, typer.Option("--tag", help="Image name (default: gemini-sft-kfp:VERSION).")
    ] = None,
    context: Annotated[
        Path | None, typer.Option("--context", help="Checkout with the Dockerfile.")
    ] = None,
    base: Annotated[
        str | None, typer.Option("--base", help="Base image (Dockerfile's PYTHON_IMAGE).")
    ] = None,
) -> None:
    """Build the component image (docker build); then: gemini-sft run --runner docker."""
    docker = shutil.which("docker")
    if docker is None:
        raise UserError("docker is not installed (it builds the image)", field="docker")
    from gemini_sft_kfp.runtime.image import local_image  # imports kfp: only when building

    tag = tag or local_image()
    command = [docker, "build", "--tag", tag]
    if base:
        command += ["--build-arg", f"PYTHON_IMAGE={base}"]
    command.append(str(context or _default_context()))
    typer.echo(" ".join(command), err=True)
    if subprocess.call(command) != 0:
        raise typer.Exit(1)
    typer.echo(tag)


def register(app: typer.Typer) -> None:
    app.add_typer(image_app, name="image")
