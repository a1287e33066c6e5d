"""Compile the pipelines to KFP IR YAML, deterministically, for a chosen component image.

The decorators read the image when the components are imported; ``--image`` has to work
after that, so the compiled spec's executor images are rewritten instead. Same code and
image -> byte-identical YAML, which is what lets CI diff ``compiled/`` against a fresh
compile.
"""

from __future__ import annotations

import os
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


def resolve_image(image: str | None = None) -> str:
    """``--image``, else ``GEMINI_SFT_IMAGE``, else the default image."""
    from gemini_sft_kfp.runtime.image import DEFAULT_IMAGE, IMAGE_ENV

    return image or os.environ.get(IMAGE_ENV) or DEFAULT_IMAGE


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
    from kfp import compiler

    pipeline = load_pipeline(file_name)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / file_name
        compiler.Compiler().compile(pipeline_func=pipeline, package_path=str(raw))
        text = set_image(raw.read_text(encoding="utf-8"), resolve_image(image))
    from gemini_sft_kfp.core.outputs import staged_files

    with staged_files(out_path) as (staged,):  # whole or not at all; never onto a device
        staged.write_text(text, encoding="utf-8")
    return out_path


def compile_all(out_dir: Path, image: str | None = None) -> list[Path]:
    """Compile every pipeline into ``out_dir``; returns the written paths."""
    return [compile_pipeline(name, out_dir / name, image) for name in PIPELINES]


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
