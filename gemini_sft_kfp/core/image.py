"""The component image and the one decorator every component uses.

Components are lightweight Python components running in our image with
``install_kfp_package=False``: the KFP local runner (``SubprocessRunner(use_venv=False)``)
runs them in this environment, Vertex runs them in the image. The image URI is a
compile-time choice: ``gemini-sft compile --image URI`` or ``GEMINI_SFT_IMAGE``.
"""

from __future__ import annotations

import functools
import os

from kfp import dsl

DEFAULT_IMAGE = "us-docker.pkg.dev/gemini-sft-kfp/images/gemini-sft-kfp:0.1.0"
IMAGE_ENV = "GEMINI_SFT_IMAGE"


def component_image() -> str:
    return os.environ.get(IMAGE_ENV) or DEFAULT_IMAGE


def sft_component(func=None, **kwargs):
    """``@sft_component``: ``dsl.component`` in our image, without installing kfp at run time.

    Inside a running task kfp strips its DSL (``_KFP_RUNTIME=true``); a component module
    imported there (the package imports all of them) keeps the plain function.
    """
    if func is None:
        return functools.partial(sft_component, **kwargs)
    if not hasattr(dsl, "component"):
        return func
    return dsl.component(func, base_image=component_image(), install_kfp_package=False, **kwargs)
