"""Hostile use through the real entry points (issue 22): each case counts what must not be
lost (models left, files changed, jobs created) and the one line a user mistake gets.

Cases are grouped by class: registry, files, checked too late, failed evaluation, user
mistakes. Each failed on the code before the fix that closes its class.
"""

from __future__ import annotations

import threading

import pytest
from gemini_sft_kfp.components.register_model.executor import run as register_model
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.lineage import alias_holders
from gemini_sft_kfp.core.registry import Registry
from tests.support.model_helpers import tune, tuned_versions, upload_training_data


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """``gemini-sft ARGS`` through its real entry point (``main``): (exit code, stdout,
    stderr). Any exception escaping ``main`` is a traceback the user would see: the test
    fails on it."""
    from gemini_sft_kfp.cli import main

    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str, *words: str) -> None:
    """A user mistake: non-zero exit, one line on stderr naming what is wrong."""
    assert code != 0, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], (word, lines[0])


# ---- registry ------------------------------------------------------------------------


@pytest.fixture
def registry(emu) -> Registry:
    return Registry(DEFAULT_PROJECT, DEFAULT_LOCATION)


def test_delete_protect_adds_to_champion_never_replaces_it(emu, registry, capsys) -> None:
    (v1,) = tuned_versions(1)
    register_model(registry, v1)
    code, _, err = cli(capsys, "models", "delete", v1, "--protect", "staging")
    one_line_error(code, err, "champion")
    assert registry.get(registry.resolve(v1)) is not None  # the champion is still there


def promote_at_once(registry: Registry, names: list[str], lineage: str) -> list[BaseException]:
    """Promote every name in its own thread, released together; the unexpected errors."""
    barrier = threading.Barrier(len(names))
    errors: list[BaseException] = []

    def promote(name: str) -> None:
        barrier.wait()
        try:
            register_model(registry, name, lineage=lineage)
        except UserError as exc:  # lost to a concurrent promote: said, not silent
            if "same time" not in str(exc):
                errors.append(exc)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=promote, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.timeout(240)
def test_concurrent_promotes_of_one_lineage_leave_exactly_one_champion(emu, registry) -> None:
    """Three versions of one lineage across two models (two versions share a model, so
    both Vertex's in-model move and the cross-model removal race) promoted at once,
    many rounds: every round ends with exactly one champion, and it is one of them."""
    uri = upload_training_data()
    a1, a2 = tuned_versions(2, display_name="race")
    b1 = tune("gemini-2.5-flash", uri, "race")
    contenders = [a1, a2, b1]
    for name in contenders:
        register_model(registry, name, aliases=["staging"], lineage="race")
    for round_number in range(12):
        order = contenders[round_number % 3 :] + contenders[: round_number % 3]
        errors = promote_at_once(registry, order, lineage="race")
        assert not errors, errors
        holders = [v.resource_name for v in alias_holders(registry, "race", "champion")]
        assert len(holders) == 1, f"round {round_number}: champions {holders}"
        assert holders[0].rsplit("/", 1)[-1] in {c.rsplit("/", 1)[-1] for c in contenders}
