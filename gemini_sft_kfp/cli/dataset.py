"""`gemini-sft validate` and `gemini-sft convert`: check and fix a dataset before tuning.

Contract of ``validate`` (scripts rely on it): exit 0 when valid (warnings allowed),
1 when invalid or unreadable, 2 for wrong usage; ``--json`` prints exactly one JSON
object on stdout and nothing else there.
"""

from __future__ import annotations

import sys
from enum import StrEnum

import typer

from gemini_sft_kfp.core import defaults

DEFAULT_SPLIT = 0.1  # convert --validation-split
DEFAULT_SEED = 42  # convert --seed


class TokenCounterChoice(StrEnum):
    auto = "auto"
    estimate = "estimate"
    local = "local"
    vertex = "vertex"


class SourceFormat(StrEnum):
    auto = "auto"
    openai = "openai"
    gemini_1_0 = "gemini-1.0"
    palm = "palm"
    gemini_api = "gemini-api"
    openai_dpo = "openai-dpo"
    trl = "trl"
    gemini = "gemini"


class MethodChoice(StrEnum):
    auto = "auto"
    supervised = "supervised"
    preference = "preference"


class WeightZero(StrEnum):
    error = "error"
    drop = "drop"
    keep = "keep"


def validate(
    file: str = typer.Argument(..., help="Training JSONL: local path, gs:// or https://."),
    validation_file: str = typer.Option(
        None, "--validation-file", "-v", help="Validation JSONL (checked against the same rules)."
    ),
    model: str = typer.Option(defaults.BASE_MODEL, "--model", "-m", help="Base model to tune."),
    epochs: int = typer.Option(
        None, "--epochs", min=1, help="Epochs for the billable-token estimate (default: 3)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    tokens: TokenCounterChoice = typer.Option(
        TokenCounterChoice.auto,
        "--tokens",
        help="Token counter: auto (local tokenizer if cached, else estimate), estimate, "
        "local, or vertex (countTokens; one request per example).",
    ),
    project: str = typer.Option(None, "--project", help="Project for --tokens vertex."),
    location: str = typer.Option(None, "--location", help="Location for --tokens vertex."),
    max_per_code: int = typer.Option(
        20, "--max-per-code", min=1, help="Findings listed per code (totals always given)."
    ),
    method: MethodChoice = typer.Option(
        MethodChoice.auto,
        "--method",
        help="Tuning method the data is for: auto (the first example decides: `completions` "
        "make it preference data), supervised, or preference.",
    ),
) -> None:
    """Validate a Gemini tuning dataset; exit 0 valid, 1 invalid or unreadable, 2 usage.

    Lines in a format the pipeline converts on the fly (OpenAI chat or DPO, TRL, Gemini 1.0,
    PaLM, Gemini API) are checked as converted: valid with a warning naming the format."""

    from gemini_sft_kfp.components.validate_dataset.tokens import make_counter
    from gemini_sft_kfp.components.validate_dataset.validator import validate_files
    from gemini_sft_kfp.core.errors import UserError
    from gemini_sft_kfp.core.models import get_model_spec

    try:
        spec = get_model_spec(model)
        counter = make_counter(tokens.value, spec.id, project=project, location=location)
    except UserError as exc:
        raise typer.BadParameter(exc.message) from None
    report = validate_files(
        file,
        validation_file,
        model=spec.id,
        epochs=epochs,
        token_counter=counter,
        max_findings_per_code=max_per_code,
        method=method.value,
    )
    if as_json:
        from gemini_sft_kfp.cli.output import json_text

        sys.stdout.buffer.write(json_text(report.to_dict()).encode() + b"\n")
        sys.stdout.flush()
    else:
        from rich.console import Console

        from gemini_sft_kfp.components.validate_dataset.render import print_rich

        print_rich(report, Console())
    raise typer.Exit(0 if report.valid else 1)


def convert(
    src: str = typer.Argument(..., help="Input JSONL in a legacy (or Gemini) format."),
    dst: str = typer.Argument(..., help="Output JSONL in the Gemini tuning format."),
    source_format: SourceFormat = typer.Option(
        SourceFormat.auto,
        "--from",
        help="Input format; auto detects it line by line.",
    ),
    validation_out: str = typer.Option(
        None, "--validation-out", help="Also hold out a validation set, written here."
    ),
    validation_split: float = typer.Option(
        None,
        "--validation-split",
        min=0.0,
        max=1.0,
        help="Fraction held out (with --validation-out). [default: 0.1]",
    ),
    seed: int = typer.Option(
        None, "--seed", help="Seed of the (deterministic) split. [default: 42]"
    ),
    model: str = typer.Option(
        defaults.BASE_MODEL, "--model", "-m", help="Model whose validation-set cap applies."
    ),
    weight_zero: WeightZero = typer.Option(
        WeightZero.error,
        "--weight-zero",
        help='OpenAI chat assistant turns with "weight": 0 (not trained on there; Gemini '
        "trains on every model turn): error (refuse the line, the default), drop (remove "
        "the turn, merging the user turns around it) or keep (train on it).",
    ),
) -> None:
    """Convert OpenAI chat or DPO, TRL, Gemini 1.0, PaLM or Gemini API JSONL to the Gemini
    format (supervised or preference lines)."""
    import os
    import tempfile

    from gemini_sft_kfp.components.validate_dataset.convert import convert_file
    from gemini_sft_kfp.components.validate_dataset.file_checks import max_validation_examples
    from gemini_sft_kfp.components.validate_dataset.scan import first_example_method
    from gemini_sft_kfp.components.validate_dataset.split import split_file
    from gemini_sft_kfp.core.errors import UserError
    from gemini_sft_kfp.core.models import get_model_spec
    from gemini_sft_kfp.core.outputs import check_output_file, staged_files

    try:  # every option is checked, used or not: a typo is never silently ignored
        spec = get_model_spec(model)
    except UserError as exc:
        raise typer.BadParameter(exc.message) from None
    split_options = {"validation-split": validation_split, "seed": seed}
    for name, value in split_options.items():
        if value is not None and not validation_out:
            raise UserError(f"--{name} splits the data only with --validation-out", field=name)
    validation_split = DEFAULT_SPLIT if validation_split is None else validation_split
    seed = DEFAULT_SEED if seed is None else seed
    check_output_file(dst, field="dst", inputs=[src])
    if not validation_out:
        result = convert_file(src, dst, source_format.value, weight_zero=weight_zero.value)
        formats = ", ".join(f"{n:,} {name}" for name, n in sorted(result.formats.items()))
        typer.echo(f"converted {result.examples:,} examples ({formats or 'none'}) to {dst}")
        _weight_zero_note(result.weight_zero_turns, weight_zero)
        return
    check_output_file(validation_out, field="validation-out", inputs=[src, dst])
    caps: list[int] = []

    def cap_for(total: int) -> int:  # the method is known once the file is converted
        caps.append(max_validation_examples(spec, first_example_method(converted)[0], total))
        return caps[-1]

    # both outputs appear together or not at all
    with (
        staged_files(dst, validation_out, inputs=[src]) as (train_tmp, validation_tmp),
        tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(dst))) as tmp,
    ):
        converted = os.path.join(tmp, "converted.jsonl")
        result = convert_file(src, converted, source_format.value, weight_zero=weight_zero.value)
        split = split_file(
            converted, train_tmp, validation_tmp, fraction=validation_split, seed=seed,
            max_validation=cap_for,
        )  # fmt: skip
    capped = f" (capped at {model}'s {caps[-1]:,})" if split.capped else ""
    typer.echo(
        f"converted {result.examples:,} examples: {split.train_examples:,} to {dst}, "
        f"{split.validation_examples:,} to {validation_out}{capped} (seed {seed})"
    )
    _weight_zero_note(result.weight_zero_turns, weight_zero)


def _weight_zero_note(turns: int, choice: WeightZero) -> None:
    """Say what happened to OpenAI ``"weight": 0`` turns (on stderr: stdout is the summary)."""
    if turns:
        done = "dropped" if choice == WeightZero.drop else "kept and trained on"
        typer.echo(f'{turns:,} assistant turn(s) with "weight": 0 {done}', err=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the CLI."""
    app.command("validate")(validate)
    app.command("convert")(convert)
