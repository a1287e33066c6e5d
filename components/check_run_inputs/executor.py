"""One check of a run's parameters and data inputs, before anything is created or billed.

``gemini-sft run``, ``submit`` and ``schedule`` call ``check_arguments`` before they
create anything; the pipelines run it again as their first task (``check_run_inputs``),
so a compiled YAML submitted by other tools is protected too. Everything is checked the
way Vertex AI would check it later, when a tuning job would already have been paid for:
the eval file is read and parsed like the evaluation step reads it, thresholds are
finite and on the metrics' 0..1 scale, names follow Google Cloud's rules.
"""

from __future__ import annotations

import math
import re
from typing import Any

from gemini_sft_kfp.core.defaults import EVAL_STAGING_FOLDER
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.gcp_names import MAX_DISPLAY_NAME

MAX_EPOCHS = 100
MAX_LEARNING_RATE_MULTIPLIER = 10.0
KMS_KEY = re.compile(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$")
SERVICE_ACCOUNT = re.compile(r"^[^@\s]+@[^@\s]+$")
# evaluate_model's field names -> the pipeline parameters they come from
EVAL_FIELDS = {
    "judge": "eval_judge_metrics",
    "judge_rubric": "eval_judge_rubric",
    "method": "eval_method",
    "staging_uri": "eval_staging_uri",
}


def _number(arguments: dict, name: str, *, low: float, high: float, integer: bool = False):
    value = arguments.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UserError(f"must be a number, got {value!r}", field=name)
    if not math.isfinite(value):
        raise UserError(f"must be a finite number, got {value}", field=name)
    if integer and value != int(value):
        raise UserError(f"must be a whole number, got {value}", field=name)
    if not low <= value <= high:
        raise UserError(f"must be between {low:g} and {high:g}, got {value:g}", field=name)
    return value


def check_parameters(arguments: dict[str, Any]) -> None:
    """Every parameter a pipeline would pass to Vertex AI or use after tuning."""
    from gemini_sft_kfp.components.launch_tuning_job.executor import check_quota_timeout
    from gemini_sft_kfp.components.launch_tuning_job.request import (
        check_beta,
        check_evaluation_config,
    )

    from gemini_sft_kfp.core.gcp_names import check_bucket, check_location, check_project
    from gemini_sft_kfp.core.labels import check_labels, check_value
    from gemini_sft_kfp.core.models import check_adapter_size, get_model_spec
    from gemini_sft_kfp.core.project import DEFAULT_LOCATION
    from gemini_sft_kfp.core.registry import validate_alias
    from gemini_sft_kfp.evaluation.evaluation import MAX_OUTPUT_TOKENS

    if arguments.get("project") is not None:
        check_project(arguments["project"])
    if arguments.get("location") is not None:
        check_location(arguments["location"], known_only=True)
    if "bucket" in arguments:  # required: an empty one is refused here, not by the upload
        check_bucket(arguments["bucket"])
    base_model = arguments.get("base_model")
    if base_model:
        get_model_spec(base_model)
        if not arguments.get("champion_model"):  # continuous: the champion's base decides
            check_adapter_size(base_model, arguments.get("adapter_size") or None)
    _number(arguments, "epochs", low=0, high=MAX_EPOCHS, integer=True)  # 0: service chooses
    _number(
        arguments, "learning_rate_multiplier", low=0.0, high=MAX_LEARNING_RATE_MULTIPLIER
    )  # 0: the service default (1.0)
    _number(arguments, "validation_split", low=0.0, high=0.99)
    _number(arguments, "validation_split_seed", low=0, high=2**32 - 1, integer=True)
    _number(arguments, "eval_concurrency", low=1, high=1000, integer=True)
    _number(arguments, "eval_requests_per_minute", low=0, high=1_000_000, integer=True)
    _number(arguments, "eval_max_output_tokens", low=1, high=MAX_OUTPUT_TOKENS, integer=True)
    _number(arguments, "eval_temperature", low=0.0, high=2.0)
    initial = _number(arguments, "poll_initial_seconds", low=0.001, high=86_400)
    most = _number(arguments, "poll_max_seconds", low=0.001, high=86_400)
    if initial is not None and most is not None and most < initial:
        raise UserError("must be >= poll_initial_seconds", field="poll_max_seconds")
    _number(arguments, "tuning_timeout_seconds", low=1, high=30 * 86_400)
    if "quota_timeout_seconds" in arguments:  # launch's own check: 0 (no wait) to a week
        check_quota_timeout(arguments["quota_timeout_seconds"])
    if "beta" in arguments:  # only the preference pipeline has it
        check_beta(arguments["beta"])
    if "labels" in arguments:
        check_labels(arguments["labels"])
    if arguments.get("lineage"):  # empty: derived from the display name (always valid)
        check_value(arguments["lineage"], field="lineage")
    if arguments.get("evaluation_config"):
        check_evaluation_config(
            arguments["evaluation_config"], arguments.get("location") or DEFAULT_LOCATION
        )
    for alias in arguments.get("model_aliases") or []:
        validate_alias(alias)
    if "champion_alias" in arguments:  # get_champion would refuse it after launch: billed
        validate_alias(arguments["champion_alias"], field="champion_alias")
    if arguments.get("dataset_prefix"):
        check_dataset_prefix(arguments["dataset_prefix"])
    if len(arguments.get("tuned_model_display_name") or "") > MAX_DISPLAY_NAME:
        raise UserError(f"at most {MAX_DISPLAY_NAME} characters", field="tuned_model_display_name")
    check_evaluation(arguments)
    kms = arguments.get("kms_key_name")
    if kms and not KMS_KEY.match(kms):
        raise UserError(
            "expected projects/P/locations/L/keyRings/R/cryptoKeys/K", field="kms_key_name"
        )
    account = arguments.get("service_account")
    if account and not SERVICE_ACCOUNT.match(account):
        raise UserError("expected a service account email", field="service_account")


# Cloud Storage object names: 1-1024 bytes of UTF-8, no carriage return or line feed. The
# upload names an object PREFIX/SHA256/FILE_NAME; a file name has at most 255 bytes.
MAX_OBJECT_NAME_BYTES = 1024
MAX_DATASET_PREFIX_BYTES = MAX_OBJECT_NAME_BYTES - (1 + 64 + 1) - 255


def check_dataset_prefix(prefix: Any) -> None:
    """``dataset_prefix`` can start every object name the upload makes (a 2,000-character
    or multi-line prefix passed, and the upload, after validation, got the 400)."""
    if not isinstance(prefix, str) or any(c in prefix for c in "\r\n"):
        raise UserError(
            f"{prefix!r}: a Cloud Storage prefix has no line breaks", field="dataset_prefix"
        )
    size = len(prefix.strip("/").encode("utf-8", "surrogatepass"))
    if size > MAX_DATASET_PREFIX_BYTES:
        raise UserError(
            f"at most {MAX_DATASET_PREFIX_BYTES} bytes (object names are at most "
            f"{MAX_OBJECT_NAME_BYTES}, and the upload adds a digest and the file name), "
            f"got {size}",
            field="dataset_prefix",
        )


def eval_staging_uri(arguments: dict[str, Any]) -> str:
    """Where batch evaluation writes its files: ``eval_staging_uri``, else a folder of
    this run in the pipeline's bucket (``gs://BUCKET/gemini-sft/eval/<pipeline job id>``)."""
    given = (arguments.get("eval_staging_uri") or "").strip()
    if given:
        return given.rstrip("/")
    bucket = (arguments.get("bucket") or "").strip().removeprefix("gs://").strip("/")
    if not bucket:
        return ""
    run = (arguments.get("pipeline_job_id") or "").strip()
    return "/".join(part for part in (f"gs://{bucket}", EVAL_STAGING_FOLDER, run) if part)


def eval_judge_metrics(arguments: dict[str, Any]) -> str:
    """``eval_judge_metrics`` (a list, or comma-separated) as ``evaluate_model`` takes them."""
    from gemini_sft_kfp.evaluation.judge import parse_names

    return ",".join(parse_names(arguments.get("eval_judge_metrics") or []))


def baseline_needed_by(arguments: dict[str, Any]) -> str:
    """The setting that compares with a baseline (``""``: none does). ``sft_pipeline``
    always has one (the champion, else the base model); continuous tuning only once a
    champion exists, which its champion step checks before anything is tuned."""
    from gemini_sft_kfp.evaluation.judge import WIN_RATE

    if arguments.get("eval_metric") == WIN_RATE.key:
        return f"eval_metric={WIN_RATE.key}"
    if WIN_RATE.name in eval_judge_metrics(arguments).split(","):
        return f"eval_judge_metrics={WIN_RATE.name}"
    if arguments.get("eval_gate") == "improvement":
        return "eval_gate=improvement"
    return ""


def check_evaluation(arguments: dict[str, Any]) -> None:
    """The evaluation settings, by ``evaluate_model``'s own check (the tuned endpoint does
    not exist yet; the baseline is the champion or the base model). Errors name the
    pipeline parameter."""
    from gemini_sft_kfp.evaluation.evaluation import EvalConfig, check_options
    from gemini_sft_kfp.evaluation.runner import Settings

    try:
        config = EvalConfig(
            eval_data=arguments.get("eval_data") or "",
            endpoint="",
            metric=arguments.get("eval_metric", "exact_match"),
            threshold=arguments.get("eval_threshold", 0.0),
            min_improvement=arguments.get("eval_min_improvement", 0.0),
            gate=arguments.get("eval_gate", "all"),
            concurrency=arguments.get("eval_concurrency", 8),
            requests_per_minute=arguments.get("eval_requests_per_minute", 0),
            settings=Settings(max_output_tokens=arguments.get("eval_max_output_tokens", 256)),
            judge_metrics=eval_judge_metrics(arguments),
            judge_rubric=arguments.get("eval_judge_rubric") or "",
            method=arguments.get("eval_method") or "online",
            staging_uri=eval_staging_uri(arguments),
        )
        # both pipelines compare with a baseline (the champion, else the base model)
        check_options(config, has_baseline=True, location=arguments.get("location") or "")
    except UserError as exc:
        exc.field = EVAL_FIELDS.get(exc.field, exc.field)
        raise


def _is_remote(path: str) -> bool:
    return path.startswith(("gs://", "http://", "https://"))


def _utf8(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_utf8(k) and _utf8(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(map(_utf8, value))
    return True


def check_text(arguments: dict[str, Any]) -> None:
    """Every argument is text Vertex AI and KFP can carry (JSON, so UTF-8): a file name
    that is not (Python holds its bytes as lone surrogates) was a TypeError traceback."""
    for name, value in arguments.items():
        if not _utf8(value):
            shown = repr(value).encode("utf-8", "backslashreplace").decode()
            raise UserError(
                f"{shown} is not UTF-8 text, which a pipeline parameter must be: rename "
                "the file (or the value) with UTF-8 characters",
                field=name,
            )


def check_data(arguments: dict[str, Any], *, read_remote: bool = True) -> None:
    """Data inputs: local files exist and are readable; the eval file is read and parsed
    like the evaluation step will (it runs only after tuning). ``read_remote=False``
    (``submit``/``schedule``: the pipeline's service account reads the data, perhaps not
    the submitter) checks gs:// URIs by form only; the first task reads them."""
    from gemini_sft_kfp.core.gcp_names import check_bucket
    from gemini_sft_kfp.core.inputs import check_input_file
    from gemini_sft_kfp.evaluation.eval_data import read_examples
    from gemini_sft_kfp.evaluation.evaluation import check_metric_data

    check_text(arguments)
    for name in ("training_data", "validation_data", "eval_data"):
        path = arguments.get(name)
        if not path:
            if name != "validation_data" and name in arguments:
                raise UserError("is empty", field=name)
            continue
        if path.startswith("gs://"):
            bucket, _, blob = path[5:].partition("/")
            if not blob:
                raise UserError("expected gs://BUCKET/OBJECT", file=path, field=name)
            check_bucket(bucket)
        elif not _is_remote(path):
            check_input_file(path, field=name)  # a directory, FIFO, loop or missing file
    eval_data = arguments.get("eval_data")
    if eval_data and (read_remote or not _is_remote(eval_data)):
        examples = read_examples(eval_data, project=arguments.get("project"))
        # preference_accuracy needs preference lines: refused here, not after tuning
        check_metric_data(arguments.get("eval_metric") or "exact_match", examples, eval_data)


def check_arguments(arguments: dict[str, Any], *, read_remote: bool = True) -> None:
    """``check_parameters`` then ``check_data``: the whole check, one ``UserError`` at most."""
    check_parameters(arguments)
    check_data(arguments, read_remote=read_remote)


def run(**arguments: Any) -> tuple[str, str, str]:
    """The pipeline task: the same check, in the component image, before anything else.
    Returns the evaluation settings as the later steps take them: the staging prefix,
    the judge metrics (comma-separated) and what needs a baseline (for the champion step)."""
    check_arguments(arguments)
    return (
        eval_staging_uri(arguments),
        eval_judge_metrics(arguments),
        baseline_needed_by(arguments),
    )
