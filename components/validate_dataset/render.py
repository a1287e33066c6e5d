"""Human-readable forms of a ``ValidationReport``: plain text (logs, failed tasks),
Markdown (the pipeline's report artifact) and rich (the CLI)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gemini_sft_kfp.components.validate_dataset.codes import Finding

from gemini_sft_kfp.core.errors import one_line

if TYPE_CHECKING:
    from gemini_sft_kfp.components.validate_dataset.validator import ValidationReport
    from rich.console import Console


def where(finding: Finding) -> str:
    location = finding.file if finding.line is None else f"{finding.file}:{finding.line}"
    return f"{location} [{finding.field}]" if finding.field else location


def _listed_note(report: ValidationReport, findings: list[Finding]) -> list[str]:
    """'... and N more' lines for codes whose findings were capped."""
    listed: dict[str, int] = {}
    for f in findings:
        listed[f.code] = listed.get(f.code, 0) + 1
    notes = []
    for code, count in listed.items():
        total = report.totals.get(code, count)
        if code not in ("over_token_limit", "validation_overlap") and total > count:
            notes.append(f"... {code}: {total - count:,} more not listed ({total:,} in all)")
    return notes


def _file_lines(stats: dict) -> list[str]:
    lines = []
    for role in ("train", "validation"):
        f = (stats.get("files") or {}).get(role)
        if not f:
            continue
        inp, out = f["inputTokens"], f["outputTokens"]
        lines.append(
            f"{role}: {f['path']}: {f['examples']:,} examples, {f['turns']:,} turns, "
            f"{f['totalTokens']:,} tokens; input tokens min/mean/p50/p95/max "
            f"{inp['min']}/{inp['mean']}/{inp['p50']}/{inp['p95']}/{inp['max']}; output "
            f"{out['min']}/{out['mean']}/{out['p50']}/{out['p95']}/{out['max']}; "
            f"over the token limit: {f['overTokenLimit']['count']}"
        )
    return lines


def _billing_line(stats: dict) -> str:
    if not stats:
        return ""
    exact = "" if stats.get("tokenCountExact") else " (an ESTIMATE)"
    return (
        f"billable tokens{exact}: {stats['estimatedBillableTokens']:,} = "
        f"{stats['billableTokensPerEpoch']:,} per epoch x {stats['epochs']} epochs "
        f"[{stats['epochsNote']}]; tokens counted by {stats['tokenCounter']}"
    )


def render_text(report: ValidationReport) -> str:
    """Plain text: verdict, findings (capped per code, with totals), statistics."""
    verdict = "VALID" if report.valid else "INVALID"
    out = [
        f"{verdict}: {', '.join(report.files)} ({report.method} data, "
        f"{report.examples:,} training examples, "
        f"{len(report.errors)} error(s) listed, {len(report.warnings)} warning(s) listed)"
    ]
    for label, findings in (("error", report.errors), ("warning", report.warnings)):
        for f in findings:
            out.append(f"{label}: {where(f)}: {f.code}: {f.message}")
        out += _listed_note(report, findings)
    out += _file_lines(report.stats)
    billing = _billing_line(report.stats)
    if billing:
        out.append(billing)
    return "\n".join(out)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: ValidationReport) -> str:
    """The pipeline's report artifact."""
    verdict = "✅ valid" if report.valid else "❌ invalid"
    md = [
        f"# Dataset validation: {verdict}",
        "",
        f"Files: {', '.join(report.files)} ({report.method} tuning data)",
        "",
    ]
    for label, findings in (("Errors", report.errors), ("Warnings", report.warnings)):
        if not findings:
            continue
        md += [f"## {label}", "", "| where | code | message |", "|---|---|---|"]
        md += [f"| {_md_escape(where(f))} | {f.code} | {_md_escape(f.message)} |" for f in findings]
        md += [f"\n{note}" for note in _listed_note(report, findings)] + [""]
    stats = report.stats
    if stats:
        md += ["## Statistics", "", "| file | examples | turns | tokens | input p50/p95/max "
               "| output p50/p95/max | over limit |", "|---|---|---|---|---|---|---|"]  # fmt: skip
        for role in ("train", "validation"):
            f = (stats.get("files") or {}).get(role)
            if f:
                i, o = f["inputTokens"], f["outputTokens"]
                md.append(
                    f"| {role} | {f['examples']:,} | {f['turns']:,} | {f['totalTokens']:,} | "
                    f"{i['p50']}/{i['p95']}/{i['max']} | {o['p50']}/{o['p95']}/{o['max']} | "
                    f"{f['overTokenLimit']['count']} |"
                )
        md += ["", _billing_line(stats), ""]
    return "\n".join(md)


def print_rich(report: ValidationReport, console: Console) -> None:
    """The CLI's readable report."""
    from rich.table import Table
    from rich.text import Text

    style = "bold green" if report.valid else "bold red"
    verdict = "valid" if report.valid else "invalid"
    names = one_line(", ".join(report.files))
    console.print(
        Text.assemble((verdict, style), ": ", names, f" ({report.method} data)"),
        highlight=False,
    )
    for label, color, findings in (
        ("error", "red", report.errors),
        ("warning", "yellow", report.warnings),
    ):
        for f in findings:  # one line each, whatever a file name holds
            place = one_line(where(f))
            text = Text.assemble((label, color), " ", place, " ", (f.code, "dim"), ": ")
            text.append(one_line(f.message))
            console.print(text, highlight=False, soft_wrap=True)
        for note in _listed_note(report, findings):
            console.print(Text(note, style="dim"), highlight=False)
    stats = report.stats
    files = [(r, f) for r, f in (stats.get("files") or {}).items() if f and f["turns"]]
    if not files:
        return
    table = Table(title="Tokens per example", title_justify="left")
    for column in ("file", "tokens", "examples", "min", "mean", "p50", "p95", "max"):
        table.add_column(column, justify="left" if column in ("file", "tokens") else "right")
    for role, f in files:
        for label, key in (("input", "inputTokens"), ("output", "outputTokens"),
                           ("total", "exampleTokens")):  # fmt: skip
            d = f[key]
            table.add_row(
                role if label == "input" else "",
                label,
                f"{d['count']:,}",
                f"{d['min']:,}",
                f"{d['mean']:,}",
                f"{d['p50']:,}",
                f"{d['p95']:,}",
                f"{d['max']:,}",
            )
    console.print(table)
    for role, f in files:
        over = f["overTokenLimit"]["count"]
        console.print(
            f"{role}: {f['examples']:,} examples, {f['turns']:,} turns, "
            f"{f['totalTokens']:,} tokens, {over} over the {stats['maxExampleTokens']:,}-token "
            "limit",
            highlight=False,
            markup=False,
        )
    console.print(_billing_line(stats), highlight=False, markup=False)
