"""`gemini-sft models`: list, promote (and roll back), show the champion, delete.

``MODEL`` is a model resource name, a model id or a display name, optionally with
``@VERSION`` (a version id or an alias). With ``--json`` stdout carries exactly one JSON
object; refusals and mistakes are one line on stderr and exit 1.
"""

from __future__ import annotations

import typer

from gemini_sft_kfp.core import defaults
from gemini_sft_kfp.core.errors import UserError

models_app = typer.Typer(
    no_args_is_help=True,
    help="List, promote (roll back) and delete tuned models in the Model Registry.",
)

ProjectOption = typer.Option(
    None, "--project", envvar="GOOGLE_CLOUD_PROJECT", help="Google Cloud project."
)
LocationOption = typer.Option(
    None, "--location", envvar="GOOGLE_CLOUD_LOCATION", help="Vertex AI region."
)
JsonOption = typer.Option(False, "--json", help="Print one JSON object on stdout.")


def _registry(project: str | None, location: str | None):
    from gemini_sft_kfp.core.project import resolve_project_location
    from gemini_sft_kfp.core.registry import Registry

    return Registry(*resolve_project_location(project, location))


def _echo_json(payload: dict) -> None:

    from gemini_sft_kfp.cli.output import json_text

    typer.echo(json_text(payload))


@models_app.command("list")
def list_command(
    alias: str = typer.Option("", "--alias", help="Only the versions holding this alias."),
    model: str = typer.Option("", "--model", help="Only this model (id, name or display name)."),
    lineage: str = typer.Option(
        "", "--lineage", help="Only the versions of this lineage (label 'lineage')."
    ),
    project: str | None = ProjectOption,
    location: str | None = LocationOption,
    as_json: bool = JsonOption,
) -> None:
    """List model versions with their lineage, aliases, labels and endpoints.

    ``--alias champion --lineage L`` shows the one champion of lineage L.
    """
    from gemini_sft_kfp.core.registry import validate_alias

    if alias:
        validate_alias(alias)
    registry = _registry(project, location)
    if model:
        ref = registry.resolve(model)
        if ref is None:
            raise UserError(f"model {model!r} not found", field="model")
        refs = [ref]
    else:
        from gemini_sft_kfp.core.registry import ref_of

        refs = [ref_of(m) for m in registry.list_models()]
    versions = [v for ref in refs for v in registry.list_versions(ref)]
    if alias:
        versions = [v for v in versions if alias in v.aliases]
    if lineage:
        from gemini_sft_kfp.core.lineage import lineage_label

        versions = [v for v in versions if lineage_label(v) == lineage]
    rows = [v.to_dict() for v in versions]
    if as_json:
        _echo_json(
            {
                "project": registry.project,
                "location": registry.location,
                "alias": alias or None,
                "lineage": lineage or None,
                "versions": rows,
            }
        )
        return
    _print_versions(rows)


def _print_versions(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not rows:
        console.print("no model versions found")
        return
    table = Table()
    columns = ("model id", "version", "display name", "lineage", "aliases", "endpoints", "created")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row["modelId"],
            row["versionId"],
            row["displayName"],
            row["labels"].get("lineage", ""),
            ", ".join(row["aliases"]),
            "\n".join(e.rsplit("/", 1)[-1] for e in row["endpoints"]),
            row["createTime"][:19].replace("T", " "),
        )
    console.print(table)


@models_app.command("promote")
def promote_command(
    model: str = typer.Argument(..., help="MODEL[@VERSION]; without a version: the newest."),
    alias: list[str] = typer.Option(
        [defaults.CHAMPION_ALIAS], "--alias", help="Alias to move onto the version (repeatable)."
    ),
    description: str = typer.Option("", "--description", help="Set the version description."),
    project: str | None = ProjectOption,
    location: str | None = LocationOption,
    as_json: bool = JsonOption,
) -> None:
    """Move an alias (default: champion) onto a version; an older version rolls back.

    Exactly one version holds each alias afterwards. A rerun changes nothing.
    """
    from gemini_sft_kfp.components.register_model.executor import lost_message
    from gemini_sft_kfp.components.register_model.executor import run as register_model

    result = register_model(
        _registry(project, location), model, aliases=alias, description=description
    )
    if result.lost:  # never "promoted" when another promote, at the same time, won
        raise UserError(lost_message(result.version, result.lost), field="alias")
    if as_json:
        _echo_json(result.to_dict())
        return
    moved = {a: p for a, p in result.previous.items() if p}
    detail = "; ".join(f"{a} moved from {', '.join(p)}" for a, p in moved.items())
    state = "promoted" if result.changed else "already promoted"
    typer.echo(f"{state}: {result.version.resource_name} [{', '.join(result.aliases)}]")
    if detail:
        typer.echo(detail)


@models_app.command("champion")
def champion_command(
    model: str = typer.Argument(
        "", help="MODEL: resource name, id or display name (or give --lineage)."
    ),
    alias: str = typer.Option(defaults.CHAMPION_ALIAS, "--alias", help="The alias to resolve."),
    lineage: str = typer.Option("", "--lineage", help="Without MODEL: the lineage's champion."),
    project: str | None = ProjectOption,
    location: str | None = LocationOption,
    as_json: bool = JsonOption,
) -> None:
    """Show the version holding an alias (of MODEL, or of a lineage), its endpoint and
    base model.

    No such model or no holder is not an error: found is false (exit 0).
    """
    from gemini_sft_kfp.components.get_champion.executor import run as get_champion

    if not model and not lineage:
        raise UserError("give MODEL or --lineage", field="model")
    result = get_champion(_registry(project, location), model, alias, lineage=lineage)
    model = model or f"lineage {lineage}"
    if as_json:
        _echo_json(result.to_dict())
    elif not result.found:
        typer.echo(f"no version of {model} holds {alias!r}")
    else:
        typer.echo(f"{alias}: {result.model}")
        typer.echo(f"endpoint: {result.endpoint or '-'}")
        typer.echo(f"base model: {result.base_model or '-'}")


@models_app.command("delete")
def delete_command(
    model: str = typer.Argument(..., help="MODEL@VERSION (one version) or MODEL (all)."),
    force: bool = typer.Option(
        False,
        "--force",
        help="Also delete versions holding a protected alias; undeploy from endpoints the "
        "model does not own.",
    ),
    protect: list[str] = typer.Option(
        [], "--protect", help="Also protect this alias (repeatable; champion always is)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and show, change nothing."),
    project: str | None = ProjectOption,
    location: str | None = LocationOption,
    as_json: bool = JsonOption,
) -> None:
    """Delete one version (MODEL@VERSION) or a whole model (MODEL).

    Already gone is success. A version holding a protected alias (champion) is refused
    without --force. The model's own endpoints (made by its tuning job) are undeployed and
    deleted with it; other endpoints serving it are a refusal without --force.
    """
    from gemini_sft_kfp.components.delete_model.executor import DEFAULT_PROTECTED
    from gemini_sft_kfp.components.delete_model.executor import run as delete_model

    result = delete_model(
        _registry(project, location),
        model,
        force=force,
        protected_aliases=[*DEFAULT_PROTECTED, *protect],  # adds to champion, never replaces
        dry_run=dry_run,
        custom_ids=False,  # typed by a person: a word that matches nothing is a typo
    )
    if as_json:
        _echo_json(result.to_dict())
        return
    if result.already_gone:
        typer.echo(f"already gone: {model}")
        return
    verb = "would delete" if dry_run else "deleted"
    typer.echo(f"{verb} {result.scope}: {', '.join(result.versions)}")
    for action in result.endpoint_actions:
        what = "and delete endpoint" if action.delete_endpoint else "(endpoint kept)"
        typer.echo(f"  undeploy from {action.endpoint} {what}")
    if result.default_moved_to:
        moved = "would move" if dry_run else "moved"
        typer.echo(f"  'default' alias {moved} to {result.default_moved_to}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the CLI."""
    app.add_typer(models_app, name="models")
