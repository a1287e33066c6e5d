"""Where pipelines compiled before the component runtime moved find a task's component.

Their YAML runs ``from gemini_sft_kfp.core.task import load``; the runtime now lives in
``gemini_sft_kfp.runtime.task``. Kept so a YAML compiled by an earlier build still runs
on a newer image; nothing in this package imports it.
"""

from gemini_sft_kfp.runtime.task import load

__all__ = ["load"]
