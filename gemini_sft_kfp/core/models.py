"""The Gemini tuning model table: limits read from data, never hard-coded elsewhere.

The table ships as ``models.json`` beside this module. Operators can add or
override entries without a release by pointing ``GEMINI_SFT_MODEL_TABLE`` at a
JSON file of the same shape (its entries win over the shipped ones).
"""

from __future__ import annotations

import functools
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import orjson

from gemini_sft_kfp.core.errors import UserError

log = logging.getLogger(__name__)

_TABLE_PATH = Path(__file__).with_name("models.json")
_PUBLISHER_PREFIX = re.compile(r"^(?:projects/[^/]+/locations/[^/]+/)?publishers/google/models/")

ADAPTER_SIZE_ENUMS: dict[int, str] = {
    1: "ADAPTER_SIZE_ONE",
    2: "ADAPTER_SIZE_TWO",
    4: "ADAPTER_SIZE_FOUR",
    8: "ADAPTER_SIZE_EIGHT",
    16: "ADAPTER_SIZE_SIXTEEN",
    32: "ADAPTER_SIZE_THIRTY_TWO",
}


@dataclass(frozen=True)
class ModelSpec:
    """What the tuning service allows for one base model."""

    id: str
    family: str
    max_example_tokens: int
    adapter_sizes: tuple[int, ...]
    max_validation_examples: int
    max_training_examples_text: int
    max_training_examples_multimodal: int
    max_file_bytes: int
    tokenizer: str
    thinking: bool
    supported: bool
    # Lowest thinking budget the model accepts when serving (2.5 Pro cannot turn it off).
    min_thinking_budget: int = 0
    # Gemini 3.x serve with a thinking level instead of a budget ("minimal" for a tuned task).
    thinking_level: str = ""
    # Limits not published for this model, inherited from ``inherits_from``: exceeding
    # one is a warning (the service decides), never a rejection.
    unconfirmed: tuple[str, ...] = ()
    inherits_from: str = ""
    # A retired model names the model to tune instead.
    replacement: str = ""

    def is_confirmed(self, limit: str) -> bool:
        """Whether ``limit`` (a field name, e.g. ``max_example_tokens``) is published."""
        return limit not in self.unconfirmed

    def unconfirmed_note(self, limit: str) -> str:
        """A note for messages about an unconfirmed limit ("" for a published one)."""
        if self.is_confirmed(limit):
            return ""
        source = f"; inherited from {self.inherits_from}" if self.inherits_from else ""
        return f" (a limit not published for {self.id}{source}: the service decides)"


def _load(path: Path) -> tuple[dict[str, ModelSpec], dict[str, str]]:
    raw = orjson.loads(path.read_bytes())
    specs = {}
    for entry in raw.get("models", []):
        fields = {k: v for k, v in entry.items() if k in ModelSpec.__dataclass_fields__}
        fields["adapter_sizes"] = tuple(fields["adapter_sizes"])
        fields["unconfirmed"] = tuple(fields.get("unconfirmed", ()))
        specs[entry["id"]] = ModelSpec(**fields)
    return specs, dict(raw.get("aliases", {}))


@functools.cache
def model_table() -> tuple[dict[str, ModelSpec], dict[str, str]]:
    """All known models and aliases: the shipped table plus the operator's overrides."""
    specs, aliases = _load(_TABLE_PATH)
    override = os.environ.get("GEMINI_SFT_MODEL_TABLE")
    if override:
        extra_specs, extra_aliases = _load(Path(override))
        specs |= extra_specs
        aliases |= extra_aliases
    return specs, aliases


@functools.cache
def recommended_model() -> str:
    """The base model Google's current samples tune: every default names it, through
    ``core.defaults.BASE_MODEL``. From the shipped table only: an operator's override
    table adds models, it does not move the defaults compiled into the pipelines."""
    return str(orjson.loads(_TABLE_PATH.read_bytes())["recommended"])


def normalize_model_id(model: str) -> str:
    """``publishers/google/models/gemini-2.5-flash`` -> ``gemini-2.5-flash``."""
    return _PUBLISHER_PREFIX.sub("", model.strip())


def known_model_ids() -> list[str]:
    specs, _ = model_table()
    return sorted(m for m, s in specs.items() if s.supported)


def get_model_spec(model: str, *, allow_unsupported: bool = False) -> ModelSpec:
    """The spec of a base model; a clear UserError for unknown or retired models."""
    specs, aliases = model_table()
    model_id = normalize_model_id(model)
    model_id = aliases.get(model_id, model_id)
    spec = specs.get(model_id)
    if spec is None:
        raise UserError(
            f"unknown base model {model!r}; supported: {', '.join(known_model_ids())} "
            "(add new families to the model table: GEMINI_SFT_MODEL_TABLE)",
            field="model",
        )
    if not spec.supported and not allow_unsupported:
        raise UserError(retired_message(model, spec), field="model")
    return spec


def retired_message(model: str, spec: ModelSpec) -> str:
    """One message for a retired model, the same from validate, launch, run, submit, schedule."""
    instead = spec.replacement or recommended_model()
    return (
        f"{model!r} ({spec.family}) is retired: no longer supported for supervised tuning; "
        f"use {instead} instead (supported: {', '.join(known_model_ids())})"
    )


def parse_adapter_size(value: int | str | None) -> int | None:
    """Accept ``4``, ``"4"`` or ``"ADAPTER_SIZE_FOUR"``; None/0/"" means service default."""
    if value in (None, "", 0, "0", "ADAPTER_SIZE_UNSPECIFIED"):
        return None
    if isinstance(value, str) and not (value.strip().isascii() and value.strip().isdigit()):
        by_name = {v: k for k, v in ADAPTER_SIZE_ENUMS.items()}
        if value.strip().upper() not in by_name:
            raise UserError(
                f"adapter size {value!r} is not one of {sorted(ADAPTER_SIZE_ENUMS)} "
                f"or {sorted(by_name)}",
                field="adapter_size",
            )
        return by_name[value.strip().upper()]
    size = int(value)
    if size not in ADAPTER_SIZE_ENUMS:
        raise UserError(
            f"adapter size {size} is not one of {sorted(ADAPTER_SIZE_ENUMS)}", field="adapter_size"
        )
    return size


def check_adapter_size(model: str, value: int | str | None) -> str | None:
    """The API enum for ``value`` if ``model`` allows it; a UserError before any API call if not."""
    size = parse_adapter_size(value)
    if size is None:
        return None
    spec = get_model_spec(model)
    if size not in spec.adapter_sizes and not spec.is_confirmed("adapter_sizes"):
        log.warning(
            "adapter size %d is not in %s's inherited sizes %s%s",
            size,
            spec.id,
            list(spec.adapter_sizes),
            spec.unconfirmed_note("adapter_sizes"),
        )
    elif size not in spec.adapter_sizes:
        raise UserError(
            f"adapter size {size} is not available for {spec.id}; "
            f"allowed: {', '.join(map(str, spec.adapter_sizes))}",
            field="adapter_size",
        )
    return ADAPTER_SIZE_ENUMS[size]
