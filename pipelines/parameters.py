"""Every pipeline parameter, declared once: name, type, default, help, CLI option, group.

The shipped pipelines' signatures (``pipeline_signature``), the input check's component
signature (``check_run_inputs``), the ``run`` / ``submit`` / ``schedule`` options
(``cli/pipeline.py``) and the README's parameter table (``parameter_table``) are all
derived from ``PARAMETERS``; adding a parameter is one entry here plus the step that
uses it. The groups follow how a user thinks of a run (TFX's ``TrainArgs`` /
``EvalArgs`` idea): the data, the tuning, the evaluation and its gate, the registry,
the run itself.

No kfp import here: the CLI reads this table at start-up (``gemini-sft --help`` stays
fast).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from gemini_sft_kfp.core import defaults

SFT, CONTINUOUS, PREFERENCE = "sft", "continuous", "preference"
PIPELINES = (SFT, CONTINUOUS, PREFERENCE)
GROUPS = ("data", "tuning", "evaluation", "registry", "run")


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Parameter:
    """One pipeline parameter as every pipeline that has it declares it."""

    name: str
    type: type  # str, int, float, bool, dict or list: what KFP types the input by
    help: str  # the compiled YAML's description and the docs' text
    group: str
    default: Any = REQUIRED
    flag: str | None = None  # its own CLI option ("--train"); None: --param NAME=VALUE
    flag_help: str | None = None  # short CLI help; default: ``help``'s first sentence
    pipelines: tuple[str, ...] = PIPELINES
    checked: bool = True  # an input of ``check_run_inputs`` (checked before billing)
    help_for: dict[str, str] = field(default_factory=dict)  # a pipeline's own wording
    default_for: dict[str, Any] = field(default_factory=dict)  # a pipeline's own default

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def default_in(self, pipeline: str) -> Any:
        return self.default_for.get(pipeline, self.default)

    def help_in(self, pipeline: str) -> str:
        return self.help_for.get(pipeline, self.help)

    @property
    def short_help(self) -> str:
        if self.flag_help is not None:
            return self.flag_help
        first = self.help.split(". ")[0].split("\n")[0]
        return first.rstrip(".") + "."


_ONLY_CONTINUING = (CONTINUOUS, PREFERENCE)  # they start from the lineage's champion

PARAMETERS: tuple[Parameter, ...] = (
    # --- where it runs ---------------------------------------------------------------
    Parameter(
        "project",
        str,
        "Google Cloud project of the tuning job, bucket and models.",
        "run",
        flag="--project",
    ),
    Parameter(
        "location",
        str,
        "Vertex AI region of the tuning job.",
        "run",
        default=defaults.LOCATION,
        flag="--location",
    ),
    # --- data ------------------------------------------------------------------------
    Parameter(
        "training_data",
        str,
        "Training JSONL: gs:// URI, https URL, or a local path (local runs).\n"
        "Legacy formats (OpenAI chat, PaLM, Gemini 1.0, Gemini API) are converted.",
        "data",
        flag="--train",
        flag_help="Training JSONL.",
        help_for={
            CONTINUOUS: "New training JSONL (gs://, https, or a local path for local runs).",
            PREFERENCE: "Preference JSONL (contents ending on a user turn, two scored\n"
            "completions): gs://, https, or a local path for local runs. OpenAI DPO and\n"
            "TRL prompt/chosen/rejected files are converted.",
        },
    ),
    Parameter(
        "eval_data",
        str,
        "Held-out Gemini-format JSONL scored against both models (gs:// or local).",
        "data",
        flag="--eval",
        flag_help="Held-out evaluation JSONL.",
        help_for={
            CONTINUOUS: "Held-out Gemini-format JSONL scored against the new version and champion.",
            PREFERENCE: "Held-out prompts (preference or Gemini-format JSONL) on which the\n"
            "new model is compared with the model it started from.",
        },
    ),
    Parameter(
        "bucket",
        str,
        "Cloud Storage bucket (name or gs://name) for the uploaded datasets.",
        "data",
        flag="--bucket",
        flag_help="Bucket for the datasets.",
    ),
    Parameter(
        "validation_data",
        str,
        "Optional validation JSONL (<= 5,000 examples).",
        "data",
        default="",
        flag="--validation",
        flag_help="Validation JSONL.",
    ),
    Parameter(
        "validation_split",
        float,
        "Without validation_data, hold out this fraction of training data.",
        "data",
        default=0.0,
    ),
    Parameter(
        "validation_split_seed",
        int,
        "Seed of the validation_split hold-out: the same seed and data, the same split.",
        "data",
        default=42,
    ),
    Parameter(
        "dataset_prefix",
        str,
        "Object prefix of the uploaded (content-addressed) datasets.",
        "data",
        default=defaults.DATASET_PREFIX,
        checked=False,
    ),
    # --- tuning ----------------------------------------------------------------------
    Parameter(
        "champion_model",
        str,
        "The registered model (resource name or display name) whose\n"
        "``champion_alias`` version is tuned further. Empty: the lineage's champion.",
        "tuning",
        default="",
        flag="--champion-model",
        flag_help="continuous, preference: registered model to tune further.",
        pipelines=_ONLY_CONTINUING,
    ),
    Parameter(
        "checkpoint_id",
        str,
        "Champion checkpoint to start from (empty: its default checkpoint).",
        "tuning",
        default="",
        pipelines=_ONLY_CONTINUING,
        checked=False,
    ),
    Parameter(
        "base_model",
        str,
        f"Gemini model to tune (default: the current recommendation, {defaults.BASE_MODEL}).",
        "tuning",
        default=defaults.BASE_MODEL,
        flag="--base-model",
        flag_help="Gemini model to tune.",
        help_for={
            p: "The champion's base model (its family's limits and adapter sizes),\n"
            "and the model tuned when no champion exists yet (first run)."
            for p in _ONLY_CONTINUING
        },
    ),
    Parameter(
        "epochs",
        int,
        "Epochs; 0 lets the service choose from the dataset size.",
        "tuning",
        default=0,
        flag="--epochs",
        flag_help="0: the service chooses.",
    ),
    Parameter(
        "adapter_size",
        str,
        "1, 2, 4, 8, 16 (or ADAPTER_SIZE_*); empty for the service default.",
        "tuning",
        default="",
        flag="--adapter-size",
        flag_help="1, 2, 4, 8 or 16.",
    ),
    Parameter(
        "learning_rate_multiplier",
        float,
        "0 for the service default (1.0).",
        "tuning",
        default=0.0,
        flag="--learning-rate-multiplier",
        flag_help="",
    ),
    Parameter(
        "beta",
        float,
        "Preference optimization strength (> 0; Google suggests 0.01-0.5; near 0\n"
        "the model barely moves from where it started).",
        "tuning",
        default=0.1,
        flag="--beta",
        pipelines=(PREFERENCE,),
        flag_help="preference: optimization strength (> 0; default 0.1).",
    ),
    Parameter(
        "export_last_checkpoint_only",
        bool,
        "Keep only the last checkpoint of the tuned model.",
        "tuning",
        default=False,
        checked=False,
    ),
    Parameter(
        "evaluation_config",
        dict,
        "Tuning-time evaluation of each checkpoint by the Gen AI\n"
        "evaluation service (REST ``evaluationConfig``: metrics, outputConfig,\n"
        "autoraterConfig); empty: none. Its runs appear in the wait's metrics/report.",
        "tuning",
        default={},
        pipelines=(SFT, CONTINUOUS),
    ),
    Parameter(
        "kms_key_name",
        str,
        "Customer-managed encryption key (CMEK) of the tuning job.",
        "tuning",
        default="",
        flag="--kms-key",
        flag_help="CMEK of the run and its tuning job.",
    ),
    Parameter(
        "service_account",
        str,
        "Service account the tuning job runs as.",
        "tuning",
        default="",
    ),
    Parameter(
        "quota_timeout_seconds",
        float,
        "How long the launch waits out quota refusals (429: another\n"
        "tuning job holds the project's concurrent slot) before failing; 0: no wait.",
        "tuning",
        default=21600.0,
    ),
    # --- evaluation and gate ---------------------------------------------------------
    Parameter(
        "eval_metric",
        str,
        "Gate metric: exact_match, rouge_l, bleu, chrf, accuracy, macro_f1, or\n"
        "a judge metric (judge_fluency, judge_groundedness, judge_rubric,\n"
        "judge_win_rate; computed even when not in eval_judge_metrics).",
        "evaluation",
        default="exact_match",
        flag="--metric",
        flag_help="Gate metric.",
        default_for={PREFERENCE: "judge_win_rate"},
        help_for={
            PREFERENCE: "Gate metric: judge_win_rate (a pairwise judge of the new model\n"
            "against the model it started from, Gen AI evaluation service) or\n"
            "preference_accuracy (computed, no judge: how often the answer is closer to\n"
            "the preferred than to the dispreferred completion); both are reported.",
        },
    ),
    Parameter(
        "eval_threshold",
        float,
        "The tuned model's score must reach this (0 = no absolute bar).",
        "evaluation",
        default=0.0,
        flag="--threshold",
        flag_help="Absolute bar.",
    ),
    Parameter(
        "eval_min_improvement",
        float,
        "The tuned model must beat the base model by this much\n"
        "(0: at least as good; negative tolerates a drop).",
        "evaluation",
        default=0.0,
        flag="--min-improvement",
        flag_help="Margin over the baseline.",
        help_for={
            p: "The new version must beat the champion by this much\n"
            "(0: at least as good; negative tolerates a drop)."
            for p in _ONLY_CONTINUING
        },
    ),
    Parameter(
        "eval_gate",
        str,
        "How the two checks combine: all, any, threshold, improvement.",
        "evaluation",
        default="all",
        flag="--gate",
        flag_help="all, any, threshold, improvement.",
    ),
    Parameter(
        "eval_temperature",
        float,
        "Sampling temperature of the evaluation requests.",
        "evaluation",
        default=0.0,
    ),
    Parameter(
        "eval_max_output_tokens",
        int,
        "Output token cap of the evaluation requests.",
        "evaluation",
        default=256,
    ),
    Parameter(
        "eval_concurrency",
        int,
        "Evaluation requests in flight.",
        "evaluation",
        default=8,
        flag="--concurrency",
        flag_help="Eval requests.",
    ),
    Parameter(
        "eval_requests_per_minute",
        int,
        "Client-side rate limit of evaluation (0 = none).",
        "evaluation",
        default=0,
        flag="--rpm",
        flag_help="Eval requests per minute.",
    ),
    Parameter(
        "eval_method",
        str,
        "online (concurrent calls), batch (one Vertex AI batch prediction\n"
        "job per model evaluated, files under eval_staging_uri), or auto (batch from\n"
        "5,000 examples). Checkpoint selection always scores online.",
        "evaluation",
        default="online",
        flag="--eval-method",
        flag_help="online, batch (a batch prediction job per model; files under "
        "gs://BUCKET/gemini-sft/eval/RUN) or auto (batch from 5,000 examples).",
    ),
    Parameter(
        "eval_judge_metrics",
        list,
        "Model-based metrics from the Gen AI evaluation service,\n"
        "reported beside the computed ones (0..1, ``judge_<name>``): fluency,\n"
        "groundedness, rubric (needs eval_judge_rubric), win_rate (pairwise against\n"
        "the baseline: the champion, else the base model). Against the emulator the\n"
        "judge is a labelled simulation.",
        "evaluation",
        default=[],
        flag="--judge-metric",
        flag_help="Judge metric (Gen AI evaluation service): fluency, groundedness, rubric, "
        "win_rate; repeat for more. --metric judge_NAME gates on one.",
        help_for={
            CONTINUOUS: "Model-based metrics from the Gen AI evaluation service,\n"
            "reported beside the computed ones (0..1, ``judge_<name>``): fluency,\n"
            "groundedness, rubric (needs eval_judge_rubric), win_rate (pairwise against\n"
            'the champion: like gate "improvement", it needs one, so a first run without\n'
            "a champion fails at evaluation). Against the emulator the judge is a\n"
            "labelled simulation.",
        },
    ),
    Parameter(
        "eval_judge_rubric",
        str,
        "Criteria of the ``rubric`` judge metric, in plain words.",
        "evaluation",
        default="",
        flag="--judge-rubric",
        flag_help="Criteria of the 'rubric' judge metric.",
    ),
    Parameter(
        "eval_staging_uri",
        str,
        "gs:// prefix for batch evaluation's request and result files;\n"
        "empty: ``gs://<bucket>/gemini-sft/eval/<pipeline job id>``.",
        "evaluation",
        default="",
    ),
    Parameter(
        "select_best_checkpoint",
        bool,
        "Score every checkpoint on eval_data with eval_metric and\n"
        "make the best the model's default checkpoint before the gate decides (a\n"
        "judge eval_metric is computed for each checkpoint; judge_win_rate compares\n"
        "each with the gate's baseline).",
        "evaluation",
        default=True,
        checked=False,
    ),
    Parameter(
        "keep_on_fail",
        bool,
        "Keep the tuned model when it fails the gate (default: delete it).",
        "evaluation",
        default=False,
        flag="--keep-on-fail/--delete-on-fail",
        flag_help="Keep a model below the gate.",
        checked=False,
    ),
    # --- registry --------------------------------------------------------------------
    Parameter(
        "tuned_model_display_name",
        str,
        "Display name of the tuned model.",
        "registry",
        default="",
        flag="--display-name",
        flag_help="Tuned model display name.",
    ),
    Parameter(
        "description",
        str,
        "Description of the tuning job and the registered model.",
        "registry",
        default="",
        checked=False,
    ),
    Parameter(
        "labels",
        dict,
        "Labels of the tuning job and the registered model.",
        "registry",
        default={},
        flag="--label",
        flag_help="KEY=VALUE on the jobs and models.",
    ),
    Parameter(
        "lineage",
        str,
        "The task this model belongs to (label ``lineage`` on every model made;\n"
        "one champion per lineage). Empty: derived from tuned_model_display_name,\n"
        f"else ``{defaults.DEFAULT_LINEAGE}``.",
        "registry",
        default="",
        help_for={
            p: "The task the models belong to (label ``lineage``; one champion per\n"
            "lineage). Empty: the champion's own lineage, else one derived from\n"
            f"tuned_model_display_name, else ``{defaults.DEFAULT_LINEAGE}``."
            for p in _ONLY_CONTINUING
        },
    ),
    Parameter(
        "champion_alias",
        str,
        "The alias of the lineage's champion, the baseline to beat.",
        "registry",
        default=defaults.CHAMPION_ALIAS,
    ),
    Parameter(
        "model_aliases",
        list,
        "Version aliases moved to the tuned model when it passes.",
        "registry",
        default=[defaults.CHAMPION_ALIAS],
        flag="--alias",
        flag_help="Alias(es) given on promotion.",
        help_for={
            p: "Aliases moved to the new version when it passes (include\n"
            "``champion_alias`` so the next run starts from it)."
            for p in _ONLY_CONTINUING
        },
    ),
    # --- the run ---------------------------------------------------------------------
    Parameter(
        "poll_initial_seconds",
        float,
        "First polling interval of the wait.",
        "run",
        default=10.0,
    ),
    Parameter(
        "poll_max_seconds",
        float,
        "Longest polling interval of the wait.",
        "run",
        default=60.0,
    ),
    Parameter(
        "tuning_timeout_seconds",
        float,
        "Give up (and cancel the job) after this long.",
        "run",
        default=172800.0,
    ),
    Parameter(
        "cancel_on_failure",
        bool,
        "When the pipeline fails, cancel its still-running tuning job.",
        "run",
        default=True,
        checked=False,
    ),
)

BY_NAME: dict[str, Parameter] = {p.name: p for p in PARAMETERS}


def of_pipeline(pipeline: str) -> Iterator[Parameter]:
    """The parameters ``pipeline`` declares, required ones first (a Python signature)."""
    declared = [p for p in PARAMETERS if pipeline in p.pipelines]
    yield from (p for p in declared if p.default_in(pipeline) is REQUIRED)
    yield from (p for p in declared if p.default_in(pipeline) is not REQUIRED)


def checked_parameters() -> Iterator[Parameter]:
    """The inputs of ``check_run_inputs``: every checked parameter of any pipeline,
    required ones first."""
    checked = [p for p in PARAMETERS if p.checked]
    yield from (p for p in checked if p.required)
    yield from (p for p in checked if not p.required)


def signature(parameters: list[Parameter], pipeline: str | None = None) -> inspect.Signature:
    """A Python signature KFP reads like a hand-written one (types, defaults)."""

    def default(p: Parameter) -> Any:
        value = p.default_in(pipeline) if pipeline else p.default
        return inspect.Parameter.empty if value is REQUIRED else value

    return inspect.Signature(
        [
            inspect.Parameter(
                p.name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=default(p),
                annotation=p.type,
            )
            for p in parameters
        ]
    )


def args_section(parameters: list[Parameter], pipeline: str | None = None) -> str:
    """The docstring ``Args:`` block KFP turns into the compiled inputs' descriptions."""
    lines = ["Args:"]
    for p in parameters:
        text = p.help_in(pipeline) if pipeline else p.help
        first, *rest = text.split("\n")
        lines.append(f"    {p.name}: {first}")
        lines.extend(f"        {line}" for line in rest)
    return "\n".join(lines)


def with_parameters(pipeline: str) -> Callable[[Callable[[dict], None]], Callable[..., None]]:
    """Give a pipeline body ``body(parameters: dict)`` the declared signature of ``pipeline``.

    KFP reads a pipeline's inputs from ``inspect.signature`` and its descriptions from
    the docstring's ``Args:``; both come from ``PARAMETERS``, so the body never repeats
    them. KFP calls the function with one placeholder per parameter (positionally).
    """

    def decorate(body: Callable[[dict], None]) -> Callable[..., None]:
        parameters = list(of_pipeline(pipeline))
        sig = signature(parameters, pipeline)

        def pipeline_func(*args: Any, **kwargs: Any) -> None:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            return body(dict(bound.arguments))

        pipeline_func.__name__ = body.__name__
        pipeline_func.__qualname__ = body.__qualname__
        pipeline_func.__module__ = body.__module__
        pipeline_func.__doc__ = (
            inspect.cleandoc(body.__doc__ or "") + "\n\n" + args_section(parameters, pipeline)
        )
        pipeline_func.__signature__ = sig  # type: ignore[attr-defined]
        pipeline_func.__annotations__ = {p.name: p.type for p in parameters}
        pipeline_func.__annotations__["return"] = None
        return pipeline_func

    return decorate


TABLE_START = "<!-- parameter table: generated from pipelines/parameters.py -->"
TABLE_END = "<!-- end of parameter table -->"


def _shown_default(parameter: Parameter) -> str:
    if parameter.required:
        return "required"
    shown = f"`{parameter.default!r}`"
    for pipeline, value in parameter.default_for.items():
        shown += f" ({pipeline}: `{value!r}`)"
    return shown


def parameter_table() -> str:
    """The README's parameter table (Markdown), by group, between its markers."""
    rows = [
        TABLE_START,
        "| group | parameter | CLI option | pipelines | default | what it does |",
        "|---|---|---|---|---|---|",
    ]
    for group in GROUPS:
        for p in (p for p in PARAMETERS if p.group == group):
            option = f"`{p.flag}`" if p.flag else "`--param`"
            where = "all" if p.pipelines == PIPELINES else ", ".join(p.pipelines)
            text = " ".join(p.help.split()).replace("|", "\\|")
            rows.append(
                f"| {group} | `{p.name}` | {option} | {where} | {_shown_default(p)} | {text} |"
            )
    return "\n".join([*rows, TABLE_END]) + "\n"
