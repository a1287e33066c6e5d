"""No message names a command or flag the CLI does not have.

Every string in the code that mentions ``gemini-sft COMMAND [SUBCOMMAND] ... --flag`` is
checked against the real CLI (the typer app, introspected): a hint a user copies must
work. ``run/submit/schedule`` is three commands; UPPERCASE words are placeholders.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import typer

from tests.support import REPO

SOURCES = ("gemini_sft_kfp", "pipelines", "components", "emulator")
MENTION = re.compile(r"gemini-sft((?: +[^\s`'\"();,]+)+)")
WORD = re.compile(r"^[a-z][a-z0-9-]*(/[a-z][a-z0-9-]*)*$")


def _strings(path: Path) -> list[tuple[int, str]]:
    """Every string literal (f-strings with their holes as X) and the line it starts on."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(
                part.value if isinstance(part, ast.Constant) else "X" for part in node.values
            )
            found.append((node.lineno, text))
    return found


def mentions() -> list[tuple[str, list[str]]]:
    """``(where, tokens after 'gemini-sft')`` for every mention in the sources."""
    result = []
    for root in SOURCES:
        for path in sorted((REPO / root).rglob("*.py")):
            for line, text in _strings(path):
                for match in MENTION.finditer(text):
                    where = f"{path.relative_to(REPO)}:{line}: gemini-sft{match[1]}"
                    result.append((where, match[1].split()))
    return result


@pytest.fixture(scope="module")
def cli():
    from gemini_sft_kfp.cli import _register_all, app

    _register_all()
    return typer.main.get_command(app)


def unknown_parts(cli, tokens: list[str]) -> list[str]:
    """The command words and flags of one mention that the CLI does not have."""
    if not tokens or not WORD.match(tokens[0]):
        return []  # e.g. "gemini-sft's" or a placeholder: no command named
    problems = []
    for name in tokens[0].split("/"):
        command = cli.commands.get(name)
        if command is None:
            problems.append(f"no command {name!r}")
            continue
        rest = tokens[1:]
        if hasattr(command, "commands") and rest and WORD.match(rest[0]):
            sub = command.commands.get(rest[0])
            if sub is None:
                problems.append(f"no command '{name} {rest[0]}'")
                continue
            command, rest = sub, rest[1:]
        options = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        for token in rest:
            flag = token.split("=")[0].rstrip(".:")
            if flag.startswith("--") and flag not in options:
                problems.append(f"'{command.name}' has no {flag}")
    return problems


def test_every_mentioned_command_and_flag_exists(cli):
    found = mentions()
    assert len(found) > 10  # the scan finds the hints (it is not vacuous)
    bad = [f"{where} -> {p}" for where, tokens in found for p in unknown_parts(cli, tokens)]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(
    ("tokens", "problem"),
    [
        ("dataset convert", "no command 'dataset'"),
        ("models remove MODEL", "no command 'models remove'"),
        ("models delete MODEL --forse", "has no --forse"),
        ("run/submitt", "no command 'submitt'"),
    ],
)
def test_the_check_catches_a_wrong_hint(cli, tokens, problem):
    assert any(problem in p for p in unknown_parts(cli, tokens.split()))


@pytest.mark.parametrize(
    "tokens",
    ["convert IN.jsonl OUT.jsonl --from openai", "models delete M --force", "compile --image X"],
)
def test_right_hints_pass(cli, tokens):
    assert unknown_parts(cli, tokens.split()) == []
