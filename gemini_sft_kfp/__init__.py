"""gemini-sft-kfp: Kubeflow Pipelines components and pipelines for Gemini supervised
fine-tuning on Vertex AI, with a local emulator of the services they use.

    from gemini_sft_kfp.components import ValidateDatasetOp, LaunchTuningJobOp
    from gemini_sft_kfp.pipelines import sft_pipeline
    from gemini_sft_kfp.emulator import Emulator      # extra: gemini-sft-kfp[emulator]

Sub-packages: ``core`` (shared by everything: clients, model table, retry, storage,
tuning-job lifecycle, errors), ``components`` (one folder per KFP component),
``pipelines`` (the pipelines, compile and the local runner), ``emulator`` and ``cli``.
Importing this package imports nothing else.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gemini-sft-kfp")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"


def use_image(image: str) -> None:
    """Run every gemini-sft-kfp component of the pipelines you define next in ``image``
    (``REGISTRY/PATH:TAG``, pushed where Vertex AI can pull it); see ``runtime.image``."""
    from gemini_sft_kfp.runtime.image import use_image as bind

    bind(image)


def rehearse(pipeline, arguments=None, **options):
    """Run ``pipeline`` (a ``@dsl.pipeline``, ``"file.py:name"`` or a compiled YAML path)
    on the local runner against the emulator, as ``gemini-sft run --pipeline-file`` does;
    returns the run's summary. See ``pipelines.local.run.rehearse``."""
    from gemini_sft_kfp.pipelines.local.run import rehearse as run

    return run(pipeline, arguments, **options)
