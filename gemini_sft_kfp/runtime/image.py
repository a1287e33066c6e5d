"""The component image and the one decorator every component uses.

Every task runs its component from the package installed in the image (on Vertex, on
Kubeflow Pipelines, in KFP's ``DockerRunner``) or in this environment (the default local
runner, ``SubprocessRunner(use_venv=False)``): the compiled YAML carries a three-line
program that imports the component (``runtime.task.load``), not the function's source.
The shell that writes that program ``exec``s Python, so Python is the container's PID 1
and receives the SIGTERM of a cancelled run (see ``runtime/task.py``).

Why this form and not KFP's containerized components (``target_image=``, command
``python3 -m kfp.dsl.executor_main``): those find the function through a
``kfp_config.ini`` in the working directory, and ``SubprocessRunner`` refuses them, so
the default local run, which needs no Docker, would need a second code path.

The image URI is a compile-time choice: ``gemini-sft compile --image URI`` or
``GEMINI_SFT_IMAGE`` for the shipped pipelines; in a pipeline of your own,
``gemini_sft_kfp.use_image(URI)`` (or ``GEMINI_SFT_IMAGE`` set before the components are
imported) before the ``@dsl.pipeline`` is defined. Defining a pipeline of your own with
the placeholder ``DEFAULT_IMAGE`` warns (``PlaceholderImageWarning``): Vertex AI cannot
pull it, and ``gemini-sft submit`` refuses such a template.
"""

from __future__ import annotations

import functools
import os
import warnings

from kfp import dsl

from gemini_sft_kfp import __version__

DEFAULT_IMAGE = "us-docker.pkg.dev/gemini-sft-kfp/images/gemini-sft-kfp:0.1.0"
PLACEHOLDER_REPOSITORY = "us-docker.pkg.dev/gemini-sft-kfp/"  # nobody can pull from it
IMAGE_ENV = "GEMINI_SFT_IMAGE"
# The shipped pipelines: their image is chosen when they are compiled (--image).
SHIPPED_PIPELINES = frozenset(
    {"gemini-sft", "gemini-continuous-tuning", "gemini-preference-tuning"}
)
PUSH_FIX = "build and push your image (gemini-sft image build --tag URI; docker push URI)"
OWN_PIPELINE_FIX = (
    "gemini_sft_kfp.use_image(URI) (or GEMINI_SFT_IMAGE=URI) before defining the pipeline"
)
IMAGE_FIX = (
    f"{PUSH_FIX}, then name it: --image URI (gemini-sft submit, schedule or compile) for the "
    f"shipped pipelines, {OWN_PIPELINE_FIX} for your own"
)

_chosen_image: str | None = None  # use_image()
_components: list = []  # every component made by sft_component, for use_image()
_warned: set[str] = set()


class PlaceholderImageWarning(UserWarning):
    """A pipeline of your own uses our components with the placeholder image."""


def is_placeholder(image: str) -> bool:
    return image.startswith(PLACEHOLDER_REPOSITORY)


# KFP's lightweight-component command with one change, ``exec``: Python replaces the
# shell as PID 1. (SubprocessRunner recognises this shape and runs it with its Python.)
TASK_SHELL = (
    "program_path=$(mktemp -d)\n"
    'printf "%s" "$0" > "$program_path/ephemeral_component.py"\n'
    "_KFP_RUNTIME=true exec python3 -m kfp.dsl.executor_main"
    ' --component_module_path "$program_path/ephemeral_component.py" "$@"\n'
)


def component_image() -> str:
    return _chosen_image or os.environ.get(IMAGE_ENV) or DEFAULT_IMAGE


def use_image(image: str) -> None:
    """Run every gemini-sft-kfp component in ``image`` (pushed where Vertex AI can pull
    it). Call it before defining the ``@dsl.pipeline`` that uses them: a pipeline's spec
    is built when it is defined."""
    global _chosen_image
    if not isinstance(image, str) or not image.strip() or any(c.isspace() for c in image):
        from gemini_sft_kfp.core.errors import UserError

        raise UserError(f"not an image URI: {image!r}", field="image")
    _chosen_image = image.strip()
    for component in _components:
        component.component_spec.implementation.container.image = _chosen_image


def _warn_if_placeholder(component) -> None:
    """A task of ours added to a pipeline of the user's that still names the placeholder."""
    image = component.component_spec.implementation.container.image
    if not is_placeholder(image):
        return
    from kfp.dsl import pipeline_context

    pipeline = pipeline_context.Pipeline.get_default_pipeline()
    name = getattr(pipeline, "name", None)
    if not name or name in SHIPPED_PIPELINES or name in _warned:
        return
    _warned.add(name)
    warnings.warn(
        f"pipeline {name!r} runs gemini-sft-kfp components in the placeholder image "
        f"{image}, which Vertex AI cannot pull: {PUSH_FIX}, then call {OWN_PIPELINE_FIX}",
        PlaceholderImageWarning,
        stacklevel=3,
    )


def local_image() -> str:
    """What ``gemini-sft image build`` tags and ``run --runner docker`` uses by default
    (unless ``GEMINI_SFT_IMAGE``): an image built here, never pulled."""
    return os.environ.get(IMAGE_ENV) or f"gemini-sft-kfp:{__version__}"


def task_program(name: str) -> str:
    """The program a task runs: the installed component, SIGTERM handled (``runtime.task``)."""
    return (
        f"# gemini-sft-kfp {__version__}: the component's code is installed in the image\n"
        "from gemini_sft_kfp.runtime.task import load\n\n"
        f"{name} = load({name!r}, compiled_with={__version__!r})\n"
    )


def task_command(name: str) -> list[str]:
    return ["sh", "-ec", TASK_SHELL, task_program(name)]


def sft_component(func=None, **kwargs):
    """``@sft_component``: a KFP component whose task runs ``func`` from the image's package.

    Inside a running task kfp strips its DSL (``_KFP_RUNTIME=true``); a component module
    imported there (the package imports all of them) keeps the plain function, which is
    what ``runtime.task.load`` hands to KFP's executor.
    """
    if func is None:
        return functools.partial(sft_component, **kwargs)
    if not hasattr(dsl, "component"):
        return func
    component = dsl.component(
        func, base_image=component_image(), install_kfp_package=False, **kwargs
    )
    component.component_spec.implementation.container.command = task_command(func.__name__)
    component.__class__ = _image_checked(type(component))
    _components.append(component)
    return component


@functools.cache
def _image_checked(component_class: type) -> type:
    """``component_class`` whose call (adding a task to a pipeline) warns about the
    placeholder image."""

    def __call__(self, *args, **kwargs):
        _warn_if_placeholder(self)
        return component_class.__call__(self, *args, **kwargs)

    return type(component_class.__name__, (component_class,), {"__call__": __call__})
