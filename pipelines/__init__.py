"""The Gemini SFT pipelines, their compiler and the local runner.

    from gemini_sft_kfp.pipelines import sft_pipeline, continuous_tuning_pipeline

``sft.py`` defines ``sft_pipeline`` (validate, upload, tune, evaluate, register or
delete); ``continuous.py`` defines ``continuous_tuning_pipeline`` (retrain against the
lineage's champion). The module names differ from the pipelines' so that a module
import never shadows the exported pipeline.
"""

from gemini_sft_kfp.pipelines.continuous import continuous_tuning_pipeline
from gemini_sft_kfp.pipelines.sft import sft_pipeline

__all__ = ["continuous_tuning_pipeline", "sft_pipeline"]
