"""Compile the pipelines to KFP IR YAML, deterministically, for a chosen component image.

The decorators read the image when the components are imported; ``--image`` has to work
after that, so the compiled spec's executor images are rewritten instead. Same code and
image -> byte-identical YAML, which is what lets CI diff ``compiled/`` against a fresh
compile.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import yaml

# Compiled file name -> "module:function" of the pipeline.
PIPELINES: dict[str, str] = {
    "sft_pipeline.yaml": "gemini_sft_kfp.pipelines.sft:sft_pipeline",
    "continuous_tuning_pipeline.yaml": (
        "gemini_sft_kfp.pipelines.continuous:continuous_tuning_pipeline"
    ),
    "preference_pipeline.yaml": "gemini_sft_kfp.pipelines.preference:preference_pipeline",
}
# Short names the CLI accepts for --pipeline.
PIPELINE_ALIASES: dict[str, str] = {
    "sft": "sft_pipeline.yaml",
    "continuous": "continuous_tuning_pipeline.yaml",
    "preference": "preference_pipeline.yaml",
}


# A container image reference as registries parse it (docker/distribution's grammar):
# [DOMAIN[:PORT]/]path/components[:TAG][@sha256:DIGEST]; paths are lowercase.
_PATH = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
IMAGE_REFERENCE = re.compile(
    rf"^(?:{_HOST}(?:\.{_HOST})*(?::[0-9]+)?/)?{_PATH}(?:/{_PATH})*"
    r"(?::\w[\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$"
)


def resolve_image(image: str | None = None) -> str:
    """``--image``, else ``GEMINI_SFT_IMAGE``, else the default image; one no registry
    could pull (``x y``, ``Repo:tag``) is a one-line error, not a task that never starts."""
    from gemini_sft_kfp.core.errors import UserError
    from gemini_sft_kfp.runtime.image import DEFAULT_IMAGE, IMAGE_ENV

    resolved = image or os.environ.get(IMAGE_ENV) or DEFAULT_IMAGE
    if len(resolved) > 255 or not IMAGE_REFERENCE.match(resolved):
        source = "--image" if image else f"${IMAGE_ENV}" if os.environ.get(IMAGE_ENV) else ""
        raise UserError(
            f"{resolved!r} is not a container image reference (REGISTRY/PATH[:TAG]"
            f"[@sha256:DIGEST], lowercase path){f' (from {source})' if source else ''}",
            field="image",
        )
    return resolved


def load_pipeline(file_name: str) -> Callable:
    import importlib

    module_name, func_name = PIPELINES[file_name].split(":")
    return getattr(importlib.import_module(module_name), func_name)


def pipeline_by_name(pipeline: str) -> Callable:
    """The pipeline called ``sft``, ``continuous`` or ``preference`` (UserError else)."""
    if pipeline not in PIPELINE_ALIASES:
        from gemini_sft_kfp.core.errors import UserError

        raise UserError(
            f"unknown pipeline {pipeline!r}; choose one of: {', '.join(PIPELINE_ALIASES)}",
            field="pipeline",
        )
    return load_pipeline(PIPELINE_ALIASES[pipeline])


def executor_images(spec_text: str) -> set[str]:
    """Every container image named in a compiled spec's executors."""
    docs = list(yaml.safe_load_all(spec_text))
    return spec_images(next(d for d in docs if d and "deploymentSpec" in d))


def spec_images(spec: dict) -> set[str]:
    """Every container image named in a parsed pipeline spec's executors."""
    executors = ((spec.get("deploymentSpec") or {}).get("executors")) or {}
    return {e["container"]["image"] for e in executors.values() if "container" in e}


def set_image(spec_text: str, image: str) -> str:
    """Point every executor of a compiled spec at ``image`` (a line-exact rewrite)."""
    for old in executor_images(spec_text):
        spec_text = spec_text.replace(f"image: {old}\n", f"image: {image}\n")
    return spec_text


def compile_pipeline(file_name: str, out_path: Path, image: str | None = None) -> Path:
    """Compile one pipeline (``sft_pipeline.yaml`` or ``continuous_tuning_pipeline.yaml``)."""
    from gemini_sft_kfp.core.outputs import staged_files

    text = compiled_text(file_name, image)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with staged_files(out_path) as (staged,):  # whole or not at all; never onto a device
        staged.write_text(text, encoding="utf-8")
    return out_path


def compiled_text(file_name: str, image: str | None = None) -> str:
    """The compiled YAML of one pipeline, its executors pointing at ``image``."""
    from kfp import compiler

    image = resolve_image(image)  # a bad reference is refused before the compiler runs
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / file_name
        compiler.Compiler().compile(pipeline_func=load_pipeline(file_name), package_path=str(raw))
        return set_image(raw.read_text(encoding="utf-8"), image)


def compile_all(out_dir: Path, image: str | None = None) -> list[Path]:
    """Compile every pipeline into ``out_dir``; returns the written paths. All the files
    are written together or none is (one target a FIFO or unwritable: nothing changes)."""
    from gemini_sft_kfp.core.outputs import check_output_dir, staged_files

    texts = {name: compiled_text(name, image) for name in PIPELINES}
    check_output_dir(out_dir, field="out")
    paths = [out_dir / name for name in texts]
    with staged_files(*paths) as staged:
        for path, text in zip(staged, texts.values(), strict=True):
            path.write_text(text, encoding="utf-8")
    return paths


# The compiler stamps its own version; a kfp patch release changes only this line, so the
# staleness check ignores it (the lock pins the kfp that compiles compiled/).
_SDK_VERSION_PREFIX = "sdkVersion: kfp-"


def spec_for_comparison(spec_text: str) -> str:
    """A compiled spec without the lines that do not change what runs."""
    return "".join(
        line
        for line in spec_text.splitlines(keepends=True)
        if not line.startswith(_SDK_VERSION_PREFIX)
    )


def stale_files(shipped_dir: Path, image: str | None = None) -> list[str]:
    """The compiled files in ``shipped_dir`` that differ from a fresh compile (or are
    missing), comparing what matters: everything but kfp's version stamp."""
    with tempfile.TemporaryDirectory() as tmp:
        compile_all(Path(tmp), image)
        stale = []
        for name in PIPELINES:
            shipped = shipped_dir / name
            fresh = (Path(tmp) / name).read_text(encoding="utf-8")
            if not shipped.is_file() or spec_for_comparison(
                shipped.read_text(encoding="utf-8")
            ) != spec_for_comparison(fresh):
                stale.append(name)
        return stale


def template_for(pipeline: str, out_dir: Path, image: str | None = None) -> Path:
    """A freshly compiled template of ``pipeline`` (sft | continuous | a file name)."""
    file_name = PIPELINE_ALIASES.get(pipeline, pipeline)
    if file_name not in PIPELINES:
        from gemini_sft_kfp.core.errors import UserError

        raise UserError(
            f"unknown pipeline {pipeline!r}; choose one of: {', '.join(PIPELINE_ALIASES)}",
            field="pipeline",
        )
    return compile_pipeline(file_name, out_dir / file_name, image)
