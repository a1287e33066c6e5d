"""The component image and the one decorator every component uses.

Every task runs its component from the package installed in the image (on Vertex, on
Kubeflow Pipelines, in KFP's ``DockerRunner``) or in this environment (the default local
runner, ``SubprocessRunner(use_venv=False)``): the compiled YAML carries a three-line
program that imports the component (``core.task.load``), not the function's source.
The shell that writes that program ``exec``s Python, so Python is the container's PID 1
and receives the SIGTERM of a cancelled run (see ``core/task.py``).

Why this form and not KFP's containerized components (``target_image=``, command
``python3 -m kfp.dsl.executor_main``): those find the function through a
``kfp_config.ini`` in the working directory, and ``SubprocessRunner`` refuses them, so
the default local run, which needs no Docker, would need a second code path.

The image URI is a compile-time choice: ``gemini-sft compile --image URI`` or
``GEMINI_SFT_IMAGE``.
"""

from __future__ import annotations

import functools
import os

from kfp import dsl

from gemini_sft_kfp import __version__

DEFAULT_IMAGE = "us-docker.pkg.dev/gemini-sft-kfp/images/gemini-sft-kfp:0.1.0"
IMAGE_ENV = "GEMINI_SFT_IMAGE"

# KFP's lightweight-component command with one change, ``exec``: Python replaces the
# shell as PID 1. (SubprocessRunner recognises this shape and runs it with its Python.)
TASK_SHELL = (
    "program_path=$(mktemp -d)\n"
    'printf "%s" "$0" > "$program_path/ephemeral_component.py"\n'
    "_KFP_RUNTIME=true exec python3 -m kfp.dsl.executor_main"
    ' --component_module_path "$program_path/ephemeral_component.py" "$@"\n'
)


def component_image() -> str:
    return os.environ.get(IMAGE_ENV) or DEFAULT_IMAGE


def local_image() -> str:
    """What ``gemini-sft image build`` tags and ``run --runner docker`` uses by default
    (unless ``GEMINI_SFT_IMAGE``): an image built here, never pulled."""
    return os.environ.get(IMAGE_ENV) or f"gemini-sft-kfp:{__version__}"


def task_program(name: str) -> str:
    """The program a task runs: the installed component, SIGTERM handled (``core.task``)."""
    return (
        f"# gemini-sft-kfp {__version__}: the component's code is installed in the image\n"
        "from gemini_sft_kfp.core.task import load\n\n"
        f"{name} = load({name!r}, compiled_with={__version__!r})\n"
    )


def task_command(name: str) -> list[str]:
    return ["sh", "-ec", TASK_SHELL, task_program(name)]


def sft_component(func=None, **kwargs):
    """``@sft_component``: a KFP component whose task runs ``func`` from the image's package.

    Inside a running task kfp strips its DSL (``_KFP_RUNTIME=true``); a component module
    imported there (the package imports all of them) keeps the plain function, which is
    what ``core.task.load`` hands to KFP's executor.
    """
    if func is None:
        return functools.partial(sft_component, **kwargs)
    if not hasattr(dsl, "component"):
        return func
    component = dsl.component(
        func, base_image=component_image(), install_kfp_package=False, **kwargs
    )
    component.component_spec.implementation.container.command = task_command(func.__name__)
    return component
