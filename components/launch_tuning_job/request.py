"""Turn component inputs into one checked tuning request, before any API call.

Every mistake found here (unknown model, adapter size the model does not offer, a
local path where a gs:// URI belongs, a malformed KMS key) is a ``UserError`` that
costs nothing: no job is created, nothing is billed.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from dataclasses import dataclass, field

import orjson

from gemini_sft_kfp.core import defaults
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.labels import merge_labels, pipeline_run_labels
from gemini_sft_kfp.core.models import check_adapter_size, get_model_spec, normalize_model_id

_TUNED_MODEL = re.compile(
    r"^projects/[^/]+/locations/(?P<location>[^/]+)/models/(?P<id>[^/@]+)(?:@(?P<version>[^/]+))?$"
)
_KMS_KEY = re.compile(
    r"^projects/[^/]+/locations/(?P<location>[^/]+)/keyRings/[^/]+/cryptoKeys/[^/]+$"
)
_SERVICE_ACCOUNT = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
log = logging.getLogger(__name__)

DEFAULT_BETA = 0.1  # Google's default and notebook advice; 0 stops learning
SUGGESTED_BETA = (0.01, 0.5)  # Google's notebook: the useful range


@dataclass(frozen=True)
class TuningMethod:
    """A tuning method is a value that picks the request block (python-genai ``method``)."""

    name: str  # the component's ``method`` input
    sdk_value: str | None  # google-genai ``TuningMethod`` (None: the SDK default, SFT)
    spec_key: str  # the REST block the job carries
    # Tuning-time evaluation (``evaluationConfig``) is documented for supervised tuning;
    # the REST ``PreferenceOptimizationSpec`` (discovery document, google-genai 2.34's
    # model of it) has no such field, so a preference job would be refused for it.
    evaluates_checkpoints: bool = True

    def check_beta(self, beta: float) -> float | None:
        """The ``beta`` to send (None: this method has none), or a ``UserError``."""
        if self.name != "preference":
            if beta != DEFAULT_BETA:
                raise UserError(
                    f"beta ({beta}) applies to preference tuning only; set "
                    "method='preference' or leave beta at its default",
                    field="beta",
                )
            return None
        return check_beta(beta)


METHODS = {
    "supervised": TuningMethod("supervised", None, "supervisedTuningSpec"),
    "preference": TuningMethod(
        "preference", "PREFERENCE_TUNING", "preferenceOptimizationSpec", False
    ),
}
DEFAULT_METHOD = "supervised"


def tuning_method(method: str) -> TuningMethod:
    """The method named by the ``method`` input (case-insensitive), else a ``UserError``."""
    found = METHODS.get(str(method or DEFAULT_METHOD).strip().lower())
    if found is None:
        raise UserError(
            f"method {method!r} is not a tuning method; use one of {sorted(METHODS)}",
            field="method",
        )
    return found


def check_method(
    method: str = DEFAULT_METHOD, beta: float = DEFAULT_BETA, evaluation_config: dict | None = None
) -> TuningMethod:
    """``method``, ``beta`` and whether the method takes ``evaluation_config``, as
    ``build_request`` checks them: for a pipeline's input check before anything is billed."""
    chosen = tuning_method(method)
    chosen.check_beta(beta)
    _check_evaluates(chosen, evaluation_config)
    return chosen


def _check_evaluates(chosen: TuningMethod, evaluation_config: dict | None) -> None:
    """Tuning-time evaluation only where the method's spec has ``evaluationConfig``."""
    if evaluation_config and not chosen.evaluates_checkpoints:
        raise UserError(
            f"evaluation_config (tuning-time evaluation) is not available for {chosen.name} "
            "tuning: the service's preferenceOptimizationSpec has no evaluationConfig; "
            "leave it empty (the pipeline's evaluation step still runs)",
            field="evaluation_config",
        )


def check_beta(beta: object) -> float:
    """Preference tuning's KL weight: a finite number > 0 (0 stops learning, says Google)."""
    if isinstance(beta, bool) or not isinstance(beta, int | float) or not math.isfinite(beta):
        raise UserError(f"beta must be a finite number, got {beta!r}", field="beta")
    if beta <= 0:
        raise UserError(
            f"beta must be greater than 0 (0 stops learning; Google suggests "
            f"{SUGGESTED_BETA[0]}-{SUGGESTED_BETA[1]}, default {DEFAULT_BETA}), got {beta}",
            field="beta",
        )
    if not SUGGESTED_BETA[0] <= beta <= SUGGESTED_BETA[1]:
        log.warning(
            "beta %s is outside Google's suggested range %s-%s: a large beta keeps the model "
            "close to its start, a small one lets it drift further",
            beta,
            *SUGGESTED_BETA,
        )
    return float(beta)


@dataclass(frozen=True)
class TuningRequest:
    """What ``client.tunings.tune`` needs, plus body fields sent as REST spells them."""

    base_model: str  # a model id, or ``projects/../models/ID`` for continuous tuning
    training_dataset_uri: str
    config: dict = field(default_factory=dict)  # CreateTuningJobConfig fields
    # Sent verbatim in the request body (lowerCamel, as documented): ``serviceAccount``
    # (the SDK has no field) and ``encryptionSpec`` (the SDK would send snake_case keys).
    extra_body: dict = field(default_factory=dict)

    @property
    def service_account(self) -> str:
        return self.extra_body.get("serviceAccount", "")

    def dataset_uris(self) -> list[str]:
        validation = self.config.get("validation_dataset", {}).get("gcs_uri")
        return [self.training_dataset_uri, *([validation] if validation else [])]

    def fingerprint(self) -> str:
        """A stable digest of what the job would do (labels excluded): part of the task key."""
        content = {
            "base_model": self.base_model,
            "training": self.training_dataset_uri,
            "config": {k: v for k, v in self.config.items() if k != "labels"},
            "extra_body": self.extra_body,
        }
        return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _check_gcs_uri(uri: str, field_name: str) -> str:
    uri = uri.strip()
    if not uri.startswith("gs://") or len(uri) <= len("gs://") or "/" not in uri[5:]:
        raise UserError(
            f"{uri!r} is not a gs://BUCKET/OBJECT URI; upload the dataset first "
            "(upload_dataset) so the tuning service can read it",
            field=field_name,
        )
    return uri


def _tuned_model_name(pre_tuned_model: str, location: str) -> str:
    match = _TUNED_MODEL.match(pre_tuned_model.strip())
    if not match:
        raise UserError(
            f"pre_tuned_model {pre_tuned_model!r} is not a tuned model resource name "
            "(projects/P/locations/L/models/ID)",
            field="pre_tuned_model",
        )
    if match["location"] != location:
        raise UserError(
            f"pre_tuned_model is in {match['location']!r} but the job runs in {location!r}; "
            "continuous tuning must run in the model's region",
            field="pre_tuned_model",
        )
    # ``ID@VERSION`` / ``ID@ALIAS`` tune that version; ``ID`` the model's default version.
    return pre_tuned_model.strip()


def _check_kms_key(kms_key_name: str, location: str) -> str:
    match = _KMS_KEY.match(kms_key_name.strip())
    if not match:
        raise UserError(
            f"kms_key_name {kms_key_name!r} is not a Cloud KMS key resource name "
            "(projects/P/locations/L/keyRings/R/cryptoKeys/K)",
            field="kms_key_name",
        )
    if match["location"] not in (location, "global") and location != "global":
        raise UserError(
            f"the KMS key is in {match['location']!r} but the job runs in {location!r}; "
            "Vertex AI needs a key in the job's region",
            field="kms_key_name",
        )
    return kms_key_name.strip()


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def check_evaluation_config(config: dict, location: str) -> dict:
    """Tuning-time evaluation (``evaluationConfig`` of the method's spec), REST-shaped.

    Sent as given (proto JSON: ``metrics``, ``outputConfig``, ``autoraterConfig``,
    ``inferenceGenerationConfig``; snake_case top-level keys are accepted); only what the
    service requires is checked here: at least one metric and a gs:// output prefix.
    """
    if not isinstance(config, dict):
        raise UserError("evaluation_config must be a JSON object", field="evaluation_config")
    config = {_camel(k): v for k, v in config.items()}
    known = {"metrics", "outputConfig", "autoraterConfig", "inferenceGenerationConfig"}
    unknown = sorted(set(config) - known)
    if unknown:
        raise UserError(
            f"evaluation_config has unknown field(s) {unknown}; known: {sorted(known)}",
            field="evaluation_config",
        )
    metrics = config.get("metrics")
    if (
        not isinstance(metrics, list)
        or not metrics
        or not all(isinstance(m, dict) for m in metrics)
    ):
        raise UserError(
            "evaluation_config.metrics must be a non-empty list of metric specs, e.g. "
            '[{"exactMatchSpec": {}, "aggregationMetrics": ["AVERAGE"]}]',
            field="evaluation_config.metrics",
        )
    output = {_camel(k): v for k, v in (config.get("outputConfig") or {}).items()}
    destination = {_camel(k): v for k, v in (output.get("gcsDestination") or {}).items()}
    prefix = str(destination.get("outputUriPrefix") or "")
    if not prefix.startswith("gs://") or len(prefix) <= len("gs://"):
        raise UserError(
            "evaluation_config.outputConfig.gcsDestination.outputUriPrefix must be a gs:// "
            "prefix for the evaluation results",
            field="evaluation_config.outputConfig",
        )
    from gemini_sft_kfp.core.project import TUNING_EVALUATION_LOCATIONS

    if location not in TUNING_EVALUATION_LOCATIONS:
        log.warning(
            "tuning-time evaluation is documented (Preview) in %s only; the job runs in "
            "%s: the service decides",
            ", ".join(TUNING_EVALUATION_LOCATIONS),
            location,
        )
    return config


def build_request(
    *,
    location: str,
    training_dataset_uri: str,
    validation_dataset_uri: str = "",
    base_model: str = defaults.BASE_MODEL,
    pre_tuned_model: str = "",
    checkpoint_id: str = "",
    epochs: int = 0,
    adapter_size: str | int = "",
    learning_rate_multiplier: float = 0.0,
    export_last_checkpoint_only: bool = False,
    tuned_model_display_name: str = "",
    description: str = "",
    labels: dict | None = None,
    kms_key_name: str = "",
    service_account: str = "",
    evaluation_config: dict | None = None,
    method: str = DEFAULT_METHOD,
    beta: float = DEFAULT_BETA,
) -> TuningRequest:
    """Check every input and build the request; zero / empty means "service default".

    ``method`` picks the spec block (``supervisedTuningSpec`` or
    ``preferenceOptimizationSpec``) and its checks; everything else is shared.
    """
    chosen = tuning_method(method)
    checked_beta = chosen.check_beta(beta)  # checked (and warned about) once
    _check_evaluates(chosen, evaluation_config)
    training = _check_gcs_uri(training_dataset_uri, "training_dataset_uri")
    config: dict = {}
    if chosen.sdk_value:  # SFT requests stay as before: their idempotency keys too
        config["method"] = chosen.sdk_value
    if checked_beta is not None:
        config["beta"] = checked_beta
    if validation_dataset_uri and validation_dataset_uri.strip():
        config["validation_dataset"] = {
            "gcs_uri": _check_gcs_uri(validation_dataset_uri, "validation_dataset_uri")
        }

    # The model table decides the adapter sizes; for continuous tuning ``base_model``
    # names the family the tuned model came from.
    spec = get_model_spec(base_model)
    enum = check_adapter_size(spec.id, adapter_size)
    if enum:
        config["adapter_size"] = enum

    if pre_tuned_model and pre_tuned_model.strip():
        model = _tuned_model_name(pre_tuned_model, location)
        if checkpoint_id and str(checkpoint_id).strip():
            config["pre_tuned_model_checkpoint_id"] = str(checkpoint_id).strip()
    else:
        if checkpoint_id and str(checkpoint_id).strip():
            raise UserError(
                "checkpoint_id is only used with pre_tuned_model (continuous tuning)",
                field="checkpoint_id",
            )
        model = normalize_model_id(base_model)

    if epochs < 0:
        raise UserError(
            f"epochs must be positive (0 = service default), got {epochs}", field="epochs"
        )
    if epochs:
        config["epoch_count"] = int(epochs)
    if learning_rate_multiplier < 0:
        raise UserError(
            f"learning_rate_multiplier must be positive (0 = service default 1.0), "
            f"got {learning_rate_multiplier}",
            field="learning_rate_multiplier",
        )
    if learning_rate_multiplier:
        config["learning_rate_multiplier"] = float(learning_rate_multiplier)
    if export_last_checkpoint_only:
        config["export_last_checkpoint_only"] = True
    if tuned_model_display_name:
        config["tuned_model_display_name"] = tuned_model_display_name
    if description:
        config["description"] = description
    extra_body: dict = {}
    if kms_key_name and kms_key_name.strip():
        extra_body["encryptionSpec"] = {"kmsKeyName": _check_kms_key(kms_key_name, location)}

    merged = merge_labels(pipeline_run_labels(), labels)
    if merged:
        config["labels"] = merged

    service_account = (service_account or "").strip()
    if service_account and not _SERVICE_ACCOUNT.match(service_account):
        raise UserError(
            f"service_account {service_account!r} is not a service account email",
            field="service_account",
        )
    if service_account:
        extra_body["serviceAccount"] = service_account
    if evaluation_config:
        # REST-shaped, merged into the body as given (the SDK would rewrite the metrics)
        checked = check_evaluation_config(evaluation_config, location)
        extra_body[chosen.spec_key] = {"evaluationConfig": checked}
    return TuningRequest(
        base_model=model, training_dataset_uri=training, config=config, extra_body=extra_body
    )
