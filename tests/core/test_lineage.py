"""One champion per lineage, across models and versions (against the emulator)."""

from __future__ import annotations

import pytest
from gemini_sft_kfp.components.get_champion.executor import run as get_champion
from gemini_sft_kfp.components.register_model.executor import run as register_model
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT

from gemini_sft_kfp.core import lineage
from gemini_sft_kfp.core.registry import Registry
from tests.support.model_helpers import tune, upload_training_data


@pytest.fixture
def registry(emu) -> Registry:
    return Registry(DEFAULT_PROJECT, DEFAULT_LOCATION)


def champions(registry: Registry, name: str) -> list[str]:
    return sorted(v.resource_name for v in lineage.alias_holders(registry, name, "champion"))


@pytest.mark.parametrize(
    ("given", "display_name", "expected"),
    [
        ("ticket-routing", "anything", "ticket-routing"),
        ("", "Ticket Routing v2", "ticket-routing-v2"),
        ("", "", "gemini-sft"),
        ("{{$.inputs.parameters['lineage']}}", "", "gemini-sft"),  # unresolved placeholder
    ],
)
def test_lineage_defaults_to_the_display_name(given, display_name, expected):
    assert lineage.lineage_of(given, display_name) == expected


def test_promotion_keeps_one_champion_per_lineage_across_models(registry):
    uri = upload_training_data()
    first, second = tune("gemini-2.5-flash", uri, "bot-a"), tune("gemini-2.5-flash", uri, "bot-b")
    other = tune("gemini-2.5-flash", uri, "other-task")
    register_model(registry, other, lineage="other-task")
    register_model(registry, first, lineage="routing")
    assert champions(registry, "routing") == [first]

    result = register_model(registry, second, lineage="routing")
    assert champions(registry, "routing") == [second]  # taken off the other model
    assert result.previous == {"champion": [first]} and result.changed
    assert champions(registry, "other-task") == [other]  # another lineage is untouched

    found = get_champion(registry, "", lineage="routing")
    assert found.found and found.model == second and found.lineage == "routing"
    assert found.baseline("gemini-2.5-flash") == found.endpoint != ""
    missing = get_champion(registry, "", lineage="no-such-task")
    assert not missing.found and missing.baseline("gemini-2.5-flash") == "gemini-2.5-flash"

    # a CLI promote (no lineage given) scopes by the version's own label: a rollback
    register_model(registry, first)
    assert champions(registry, "routing") == [first]


def test_unlabelled_models_are_outside_every_lineage(registry):
    uri = upload_training_data()
    legacy, labelled = tune("gemini-2.5-flash", uri, "x"), tune("gemini-2.5-flash", uri, "y")
    register_model(registry, legacy)
    register_model(registry, labelled, lineage="gemini-sft")
    assert "champion" in registry.get(registry.ref(legacy)).aliases  # never touched
    assert champions(registry, "gemini-sft") == [labelled]


def test_a_model_is_labelled_as_soon_as_it_exists(registry):
    model = tune("gemini-2.5-flash", upload_training_data(), "z")
    version = lineage.label_model(registry, model, "routing")
    assert version.labels["lineage"] == "routing"
    assert version.labels["emulator-simulated"] == "true"  # its other labels stay
    assert lineage.lineage_versions(registry, "routing")[0].resource_name == model
