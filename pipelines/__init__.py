"""The Gemini tuning pipelines, their parameters, compiler and local runner.

    from gemini_sft_kfp.pipelines import sft_pipeline, continuous_tuning_pipeline

``sft.py`` defines ``sft_pipeline`` (validate, upload, tune, evaluate, register or
delete); ``continuous.py`` defines ``continuous_tuning_pipeline`` (retrain against the
lineage's champion); ``preference.py`` defines ``preference_pipeline`` (preference
tuning, from the champion). Their parameters are declared once, in ``parameters.py``.
The pipelines are imported on first use: the CLI reads the parameter table without
importing kfp.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "sft_pipeline": "gemini_sft_kfp.pipelines.sft",
    "continuous_tuning_pipeline": "gemini_sft_kfp.pipelines.continuous",
    "preference_pipeline": "gemini_sft_kfp.pipelines.preference",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
