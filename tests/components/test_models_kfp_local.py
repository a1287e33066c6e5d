"""The three components run as KFP tasks (``SubprocessRunner(use_venv=False)``) against
the emulator: get_champion's VertexModel feeds register_model; delete_model by name."""

import pytest
from gemini_sft_kfp.components.register_model.executor import run as promote
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT

from gemini_sft_kfp.core.registry import Registry
from tests.support.model_helpers import DISPLAY_NAME, tuned_versions


@pytest.mark.timeout(240)
def test_components_under_kfp_local_runner(emu, tmp_path) -> None:
    from gemini_sft_kfp.components import delete_model, get_champion, register_model
    from kfp import dsl, local

    v1, v2 = tuned_versions(2)
    registry = Registry(DEFAULT_PROJECT, DEFAULT_LOCATION)
    promote(registry, v1)
    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=str(tmp_path / "root"),
        raise_on_error=True,
    )

    @dsl.pipeline(name="promote-champion-to-prod")
    def champion_to_prod(model_name: str) -> str:
        champion = get_champion(
            project=DEFAULT_PROJECT, location=DEFAULT_LOCATION, model_name=model_name
        )
        registered = register_model(
            project=DEFAULT_PROJECT,
            location=DEFAULT_LOCATION,
            model=champion.outputs["champion"],
            aliases=["prod"],
            gate_metric="exact_match",
            gate_score=0.9,
        )
        return registered.outputs["Output"]

    run = champion_to_prod(model_name=DISPLAY_NAME)
    assert run.output == v1
    prod = registry.get(registry.ref(v1.partition("@")[0] + "@prod"))
    assert prod.resource_name == v1 and prod.labels["gate_score"] == "0-9"
    assert prod.labels["gate_metric"] == "exact_match"
    assert prod.labels["base_model"] == "gemini-2-5-flash"
    assert prod.labels["pipeline_run"].startswith("promote-champion-to-prod")
    assert "gate exact_match=0.9" in prod.version_description
    assert set(prod.aliases) >= {"champion", "prod"}

    deleted = delete_model(project=DEFAULT_PROJECT, location=DEFAULT_LOCATION, model_name=v2)
    assert deleted.output is True
    assert [v.version_id for v in registry.list_versions(registry.ref(v1))] == ["1"]
