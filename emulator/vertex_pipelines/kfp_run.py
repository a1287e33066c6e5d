"""Run one compiled pipeline with the KFP local runner (the pipeline executor's subprocess).

python -m gemini_sft_kfp.emulator.vertex_pipelines.kfp_run SPEC.json PARAMS.json PIPELINE_ROOT
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson


def main(spec_path: str, params_path: str, pipeline_root: str) -> int:
    from gemini_sft_kfp.pipelines.local.control_flow import patch_kfp_local
    from kfp import components, local

    patch_kfp_local()  # dsl.If decided as Vertex decides it (a lone If is never skipped)
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=pipeline_root)
    pipeline = components.load_component_from_text(Path(spec_path).read_text())
    params = orjson.loads(Path(params_path).read_bytes())
    pipeline(**params)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
