"""A pipeline of your own built from gemini-sft-kfp components (the README's "own
pipeline"), with a lone ``dsl.If`` gate: the tuned model is registered as champion only
when it beats ``threshold`` on the held-out set.

Rehearse it for free on the built-in emulator (training is simulated), then compile it:

    gemini-sft run --pipeline-file examples/own_pipeline.py:own_pipeline \\
        --param threshold=0.5
    GEMINI_SFT_IMAGE=us-central1-docker.pkg.dev/MY_PROJECT/gemini-sft/gemini-sft-kfp:0.1.0 \\
        python examples/own_pipeline.py own_pipeline.yaml

or from Python: ``gemini_sft_kfp.rehearse(own_pipeline, {"threshold": 0.5})``.
``project``, ``location`` and ``bucket`` are filled in for a local run, and the data
parameters default to the sample data when you run from a clone of the repository.
"""

import sys

from gemini_sft_kfp.components import (
    evaluate_model,
    launch_tuning_job,
    register_model,
    upload_dataset,
    validate_dataset,
    wait_for_tuning_job,
)
from kfp import compiler, dsl

BASE_MODEL = "gemini-2.5-flash"


@dsl.pipeline(name="own-gemini-tuning")
def own_pipeline(
    project: str,
    bucket: str,
    training_data: str,
    eval_data: str,
    location: str = "us-central1",
    threshold: float = 0.5,
    epochs: int = 2,
):
    checked = validate_dataset(training_data=training_data, model=BASE_MODEL)
    train = upload_dataset(project=project, bucket=bucket, dataset=checked.outputs["train"])
    job = launch_tuning_job(
        project=project,
        location=location,
        training_dataset_uri=train.outputs["Output"],
        base_model=BASE_MODEL,
        epochs=epochs,
    ).set_caching_options(False)
    tuned = wait_for_tuning_job(
        project=project, location=location, tuning_job=job.outputs["Output"]
    ).set_caching_options(False)
    score = evaluate_model(
        project=project,
        location=location,
        eval_data=eval_data,
        tuned_endpoint=tuned.outputs["endpoint"],
        metric="exact_match",
        threshold=threshold,
    ).set_caching_options(False)
    with dsl.If(score.outputs["passed"] == True, name="gate-passed"):  # noqa: E712
        register_model(
            project=project,
            location=location,
            model=tuned.outputs["model"],
            aliases=["champion"],
        ).set_caching_options(False)


if __name__ == "__main__":
    compiler.Compiler().compile(own_pipeline, sys.argv[1] if len(sys.argv) > 1 else "own.yaml")
