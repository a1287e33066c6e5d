"""The steps every tuning pipeline is made of, and the one run they form.

::

    finalize_run (exit handler: cancels a still-running tuning job, reports a failure)
    └── check inputs -> get_champion (of the lineage) + validate -> upload train + validation
        -> launch -> wait -> select checkpoint -> evaluate (against the baseline)
        ├── gate passed: register (aliases, e.g. champion; one champion per lineage)
        └── else:        delete (unless keep_on_fail)

``tuning_run`` lays that graph out; ``sft.py``, ``continuous.py`` and ``preference.py``
differ only in what they start from (the base model or the champion), the tuning method
and what the new model must beat. Task names are declared once (``TASKS``): the local
runner, its resume and the summary find tasks by them.

Caching is off for every task: a cached "launch" would skip a job the user asked for,
a cached "register" would skip an alias move, and validation and upload are cheap
(the upload is content-addressed: an unchanged dataset is not sent again). Project
and location are explicit parameters, since the KFP local runner does not resolve
``{{$.pipeline_google_cloud_project_id}}``.
"""

# No "from __future__ import annotations": KFP reads the parameter types at runtime.
from gemini_sft_kfp.components import (
    check_run_inputs,
    delete_model,
    evaluate_model,
    finalize_run,
    get_champion,
    launch_tuning_job,
    register_model,
    select_checkpoint,
    upload_dataset,
    validate_dataset,
    wait_for_tuning_job,
)
from gemini_sft_kfp.components.validate_dataset.formats import PREFERENCE as PREFERENCE_TUNING
from gemini_sft_kfp.components.validate_dataset.formats import SUPERVISED
from gemini_sft_kfp.pipelines import tasks
from kfp import dsl

RUN_KEY = dsl.PIPELINE_JOB_ID_PLACEHOLDER
"""Shared by launch (its idempotency label) and the exit handler (to find the job)."""


def champion_of_lineage(
    parameters: dict, *, checked: dsl.PipelineTask, model_name: str, fallback_baseline: str
) -> dsl.PipelineTask:
    """Add ``get_champion`` (the lineage's champion, or ``model_name``'s) to the caller's
    DAG, after ``checked``: it fails there when an evaluation setting needs a baseline
    and there is none (``check_run_inputs``' ``baseline_needed_by``)."""
    task = get_champion(
        project=parameters["project"],
        location=parameters["location"],
        model_name=model_name,
        alias=parameters["champion_alias"],
        lineage=parameters["lineage"],
        tuned_model_display_name=parameters["tuned_model_display_name"],
        fallback_baseline=fallback_baseline,
        baseline_needed_by=checked.outputs["baseline_needed_by"],
    )
    return no_cache(task.after(checked), tasks.GET_CHAMPION)


def no_cache(task: dsl.PipelineTask, display_name: str) -> dsl.PipelineTask:
    """Name a task for the Vertex UI and turn its cache off (cloud side effects)."""
    return task.set_display_name(display_name).set_caching_options(False)


def validate_and_upload(
    parameters: dict, *, checked: dsl.PipelineTask, method: str = SUPERVISED
) -> tuple[dsl.PipelineTask, dsl.PipelineTask]:
    """Add validate -> upload (train, validation) to the calling pipeline, after ``checked``
    (the ``check_run_inputs`` task); return the uploads.

    A plain function, not a sub-pipeline: the tasks land in the caller's DAG, so both
    pipelines share this step without a nested graph in the compiled YAML.
    """
    validate = no_cache(
        validate_dataset(
            training_data=parameters["training_data"],
            validation_data=parameters["validation_data"],
            model=parameters["base_model"],
            epochs=parameters["epochs"],
            validation_split=parameters["validation_split"],
            split_seed=parameters["validation_split_seed"],
            method=method,
        ).after(checked),
        tasks.VALIDATE,
    )
    uploads = []
    for split, file_name, display_name in (
        ("train", "train.jsonl", tasks.UPLOAD_TRAINING),
        ("validation", "validation.jsonl", tasks.UPLOAD_VALIDATION),
    ):
        upload = upload_dataset(
            project=parameters["project"],
            dataset=validate.outputs[split],
            bucket=parameters["bucket"],
            prefix=parameters["dataset_prefix"],
            file_name=file_name,
        )
        uploads.append(no_cache(upload, display_name))
    return uploads[0], uploads[1]


def finalized(parameters: dict, *, name: str) -> dsl.ExitHandler:
    """The run's steps go inside: ``finalize_run`` runs after them, whatever happened."""
    finalize = finalize_run(
        project=parameters["project"],
        location=parameters["location"],
        run_key=RUN_KEY,
        cancel_running_jobs=parameters["cancel_on_failure"],
        keep_on_fail=parameters["keep_on_fail"],
    )
    return dsl.ExitHandler(no_cache(finalize, tasks.FINALIZE), name=name)


def _method_inputs(method: str, parameters: dict) -> dict:
    """The launch inputs only one tuning method has: supervised tuning's tuning-time
    evaluation, preference tuning's ``beta``."""
    if method == PREFERENCE_TUNING:
        return {"method": method, "beta": parameters["beta"]}
    return {"evaluation_config": parameters["evaluation_config"]}


def declared_by(component, parameters: dict) -> dict:
    """The pipeline parameters ``component`` declares an input of the same name for."""
    inputs = component.component_spec.inputs
    return {name: value for name, value in parameters.items() if name in inputs}


def check_inputs(parameters: dict) -> dsl.PipelineTask:
    """The first task: ``check_run_inputs`` on every pipeline parameter it declares (the
    same check ``gemini-sft run/submit/schedule`` make first), so nothing starts on bad
    input."""
    return no_cache(
        check_run_inputs(**declared_by(check_run_inputs, parameters)), tasks.CHECK_INPUTS
    )


def tune_evaluate_and_gate(
    parameters: dict,
    *,
    checked: dsl.PipelineTask,
    upload_train: dsl.PipelineTask,
    upload_validation: dsl.PipelineTask,
    champion: dsl.PipelineTask,
    pre_tuned_model: str,
    checkpoint_id: str,
    baseline: str,
    method: str = SUPERVISED,
) -> None:
    """launch -> wait -> evaluate -> register if the gate passed, else delete: both pipelines.

    ``parameters``: the pipeline's own, by name; ``checked``: the input check, whose
    outputs are the evaluation settings as ``evaluate_model`` takes them (the staging
    prefix, the judge metrics). The champion's resolved ``lineage``
    labels the tuned model as soon as it exists, and scopes the promotion: one champion
    per lineage.
    """
    p = parameters
    project, location, lineage = p["project"], p["location"], champion.outputs["lineage"]
    launch = no_cache(
        launch_tuning_job(
            project=project,
            location=location,
            training_dataset_uri=upload_train.outputs["Output"],
            validation_dataset_uri=upload_validation.outputs["Output"],
            base_model=p["base_model"],
            pre_tuned_model=pre_tuned_model,
            checkpoint_id=checkpoint_id,
            epochs=p["epochs"],
            adapter_size=p["adapter_size"],
            learning_rate_multiplier=p["learning_rate_multiplier"],
            export_last_checkpoint_only=p["export_last_checkpoint_only"],
            tuned_model_display_name=p["tuned_model_display_name"],
            description=p["description"],
            labels=p["labels"],
            kms_key_name=p["kms_key_name"],
            service_account=p["service_account"],
            quota_timeout_seconds=p["quota_timeout_seconds"],
            **_method_inputs(method, p),
            idempotency_key=RUN_KEY,
        ),
        tasks.LAUNCH,
    )
    wait = no_cache(
        wait_for_tuning_job(
            project=project,
            location=location,
            tuning_job=launch.outputs["Output"],
            poll_initial_seconds=p["poll_initial_seconds"],
            poll_max_seconds=p["poll_max_seconds"],
            timeout_seconds=p["tuning_timeout_seconds"],
            lineage=lineage,
        ),
        tasks.WAIT,
    )
    # how both the checkpoints and the gate are scored: the same answers, the same metric
    scoring = {
        "project": project,
        "location": location,
        "eval_data": p["eval_data"],
        "metric": p["eval_metric"],
        "base_model": wait.outputs["base_model"],
        "temperature": p["eval_temperature"],
        "max_output_tokens": p["eval_max_output_tokens"],
        "concurrency": p["eval_concurrency"],
        "requests_per_minute": p["eval_requests_per_minute"],
        "baseline": baseline,
        "judge_rubric": p["eval_judge_rubric"],
    }
    best = no_cache(
        select_checkpoint(
            model=wait.outputs["model"],
            endpoint=wait.outputs["endpoint"],
            checkpoints=wait.outputs["checkpoints"],
            enabled=p["select_best_checkpoint"],
            **scoring,
        ),
        tasks.SELECT_CHECKPOINT,
    )
    evaluate = no_cache(
        evaluate_model(
            tuned_endpoint=best.outputs["best_endpoint"],
            threshold=p["eval_threshold"],
            min_improvement=p["eval_min_improvement"],
            gate=p["eval_gate"],
            judge_metrics=checked.outputs["eval_judge_metrics"],
            method=p["eval_method"],
            staging_uri=checked.outputs["eval_staging_uri"],
            batch_poll_seconds=p["poll_initial_seconds"],
            **scoring,
        ),
        tasks.EVALUATE,
    )
    with dsl.If(evaluate.outputs["passed"] == True, name="gate-passed"):  # noqa: E712
        no_cache(
            register_model(
                project=project,
                location=location,
                model=wait.outputs["model"],
                aliases=p["model_aliases"],
                labels=p["labels"],
                description=p["description"],
                training_dataset=upload_train.outputs["gcs_dataset"],
                base_model=wait.outputs["base_model"],
                gate_metric=p["eval_metric"],
                gate_score=evaluate.outputs["score"],
                lineage=lineage,
            ),
            tasks.REGISTER,
        )
    with dsl.Elif(p["keep_on_fail"] == False, name="gate-failed"):  # noqa: E712
        no_cache(
            delete_model(
                project=project,
                location=location,
                model=wait.outputs["model"],
                whole_model=False,
                force=False,
            ),
            tasks.DELETE,
        )


def tuning_run(
    parameters: dict, *, name: str, method: str, from_champion: bool, fallback_baseline: str
) -> None:
    """The whole run, inside the exit handler: check, champion, validate, upload, tune,
    evaluate, register or delete.

    ``from_champion``: tune the lineage's champion further (``preTunedModel``) when there
    is one, else ``base_model``; ``fallback_baseline``: what the new model must beat
    when the lineage has no champion yet (``""``: only the absolute threshold).
    """
    with finalized(parameters, name=name):
        checked = check_inputs(parameters)
        champion = champion_of_lineage(
            parameters,
            checked=checked,
            model_name=parameters.get("champion_model", ""),
            fallback_baseline=fallback_baseline,
        )
        upload_train, upload_validation = validate_and_upload(
            parameters, checked=checked, method=method
        )
        tune_evaluate_and_gate(
            parameters,
            checked=checked,
            upload_train=upload_train,
            upload_validation=upload_validation,
            champion=champion,
            pre_tuned_model=champion.outputs["model"] if from_champion else "",
            checkpoint_id=parameters.get("checkpoint_id", ""),
            baseline=champion.outputs["baseline"],
            method=method,
        )
