"""A user's own pipeline for ``gemini-sft run --pipeline-file``: ``FILE.py:NAME`` (a
``@dsl.pipeline`` function) or a compiled ``FILE.yaml`` / ``FILE.json``.

Loading a Python file runs it, as ``python FILE.py`` would, with its folder on
``sys.path`` so its own imports work. Each failure is one ``UserError`` line naming the
file.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import warnings
from pathlib import Path
from typing import Any

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.inputs import check_input_file
from gemini_sft_kfp.runtime.image import PlaceholderImageWarning

COMPILED_SUFFIXES = (".yaml", ".yml", ".json")
_FUTURE_ANNOTATIONS = "from __future__ import annotations"


def is_pipeline(value: Any) -> bool:
    """A KFP pipeline (a ``@dsl.pipeline`` function or a loaded compiled one), not a
    single component (whose implementation is a container, not a graph)."""
    spec = getattr(value, "component_spec", None)
    implementation = getattr(spec, "implementation", None)
    return getattr(implementation, "graph", None) is not None and hasattr(value, "pipeline_spec")


def load_pipeline_file(reference: str) -> Any:
    """``my_pipeline.py:my_pipeline``, ``my_pipeline.py`` (its one pipeline) or a
    compiled ``pipeline.yaml``."""
    path_text, _, name = reference.partition(":")
    if len(path_text) == 1 and name:  # a Windows drive letter, not a NAME
        path_text, _, name = reference[2:].partition(":")
        path_text = reference[:2] + path_text
    path = Path(path_text).expanduser()
    check_input_file(path, field="pipeline-file")
    if path.suffix in COMPILED_SUFFIXES:
        return _load_compiled(path)
    if path.suffix != ".py":
        raise UserError(
            "expected FILE.py[:PIPELINE] or a compiled FILE.yaml",
            file=path_text,
            field="pipeline-file",
        )
    return _pick(_import(path), name, path_text)


def _load_compiled(path: Path) -> Any:
    from gemini_sft_kfp.pipelines.checks import check_template
    from kfp import components

    check_template(path)
    try:
        pipeline = components.load_component_from_file(str(path))
    except Exception as exc:  # kfp's message says what is wrong with the spec
        raise UserError(f"not a loadable KFP pipeline: {exc}", file=str(path)) from None
    if not is_pipeline(pipeline):
        raise UserError("a single component, not a pipeline", file=str(path))
    return pipeline


def _import(path: Path) -> Any:
    module_name = f"_gemini_sft_user_pipeline_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    sys.modules[module_name] = module
    try:
        with warnings.catch_warnings():
            # the placeholder-image warning is about Vertex; a local run needs no image
            warnings.simplefilter("ignore", category=PlaceholderImageWarning)
            spec.loader.exec_module(module)
    except UserError:
        raise
    except SyntaxError as exc:
        raise UserError(f"syntax error: {exc.msg}", file=str(path), line=exc.lineno) from None
    except Exception as exc:
        line = _line_in(exc, path)
        hint = ""
        if "schema_title" in str(exc) and _FUTURE_ANNOTATIONS in path.read_text("utf-8"):
            hint = f" (kfp reads a pipeline's type hints as types: remove '{_FUTURE_ANNOTATIONS}')"
        raise UserError(
            f"importing it failed: {type(exc).__name__}: {exc}{hint}", file=str(path), line=line
        ) from None
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)
    return module


def _line_in(exc: BaseException, path: Path) -> int | None:
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
    return frames[-1].lineno if frames else None


def _pick(module: Any, name: str, path_text: str) -> Any:
    if name:
        value = getattr(module, name, None)
        if value is None:
            raise UserError(f"defines no {name!r}", file=path_text, field="pipeline-file")
        if not is_pipeline(value):
            raise UserError(
                f"{name!r} is not a @dsl.pipeline (a pipeline with at least one task)",
                file=path_text,
                field="pipeline-file",
            )
        return value
    found = {key: value for key, value in vars(module).items() if is_pipeline(value)}
    own = {key: value for key, value in found.items() if _defined_in(value, module)}
    choices = own or found
    if len(choices) == 1:
        return next(iter(choices.values()))
    if not choices:
        raise UserError("defines no @dsl.pipeline", file=path_text, field="pipeline-file")
    raise UserError(
        f"defines {len(choices)} pipelines ({', '.join(sorted(choices))}): name one, "
        f"--pipeline-file {path_text}:NAME",
        file=path_text,
        field="pipeline-file",
    )


def _defined_in(pipeline: Any, module: Any) -> bool:
    func = getattr(pipeline, "pipeline_func", None)
    return getattr(func, "__module__", None) == module.__name__
