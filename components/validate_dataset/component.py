"""KFP component: validate (and normalise) a tuning dataset before anything is uploaded."""

from typing import NamedTuple

from kfp.dsl import Dataset, Markdown, Metrics, Output

from gemini_sft_kfp.core import defaults
from gemini_sft_kfp.runtime.image import sft_component


@sft_component
def validate_dataset(
    training_data: str,
    train: Output[Dataset],
    validation: Output[Dataset],
    report: Output[Markdown],
    metrics: Output[Metrics],
    validation_data: str = "",
    model: str = defaults.BASE_MODEL,
    epochs: int = 0,
    validation_split: float = 0.0,
    split_seed: int = 42,
    method: str = "auto",
) -> NamedTuple("Outputs", examples=int, validation_examples=int, method=str):
    """Check ``training_data`` (local path, gs:// or https://) for tuning ``model``.

    ``method``: ``auto`` (the training file's first example decides: two scored
    ``completions`` make it preference data), ``supervised`` or ``preference``; the
    method found is the ``method`` output and the datasets' metadata. Other formats
    (OpenAI chat and DPO, TRL, Gemini 1.0, PaLM, Gemini API) and snake_case keys are
    converted on the fly; ``train``/``validation`` hold normalised Gemini JSONL
    (``validation`` is empty when there is none). With ``validation_split`` and no
    validation data, a seeded split holds out that fraction (capped at the limit of
    the model and method). Invalid data fails the task with the readable summary.
    """
    import logging
    from collections import namedtuple

    from gemini_sft_kfp.components.validate_dataset.executor import run as prepare_dataset

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    prepared = prepare_dataset(
        training_data,
        validation_data,
        model=model,
        epochs=epochs,
        validation_split=validation_split,
        split_seed=split_seed,
        train_out=train.path,
        validation_out=validation.path,
        method=method,
    )
    logging.info("%s", prepared.report.summary())
    with open(report.path, "w", encoding="utf-8") as f:
        f.write(prepared.markdown)
    for artifact, count in (
        (train, prepared.train_examples),
        (validation, prepared.validation_examples),
    ):
        artifact.metadata.update(
            {"format": "gemini-jsonl", "examples": count, "model": model, "method": prepared.method}
        )
    train.metadata["source"] = training_data
    for name, value in prepared.metrics().items():
        metrics.log_metric(name, value)
    outputs = namedtuple("Outputs", ["examples", "validation_examples", "method"])
    return outputs(prepared.train_examples, prepared.validation_examples, prepared.method)
