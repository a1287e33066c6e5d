"""``gcp_resources`` is GCPC's proto as JSON; reading it never breaks a task."""

from __future__ import annotations

import orjson
import pytest
from google.protobuf import json_format
from google_cloud_pipeline_components.proto.gcp_resources_pb2 import GcpResources

from gemini_sft_kfp.core import gcp_resources

NAME = "projects/123/locations/us-central1/tuningJobs/7"


@pytest.fixture(autouse=True)
def real_vertex(monkeypatch):
    monkeypatch.delenv("VERTEX_AI_EMULATOR_HOST", raising=False)


def test_written_file_is_the_gcpc_shape_and_parses_as_its_proto(tmp_path):
    path = tmp_path / "out" / "gcp_resources"
    gcp_resources.write(str(path), "TuningJob", NAME, "us-central1")
    text = path.read_text(encoding="utf-8")
    assert orjson.loads(text) == {
        "resources": [
            {
                "resourceType": "TuningJob",
                "resourceUri": f"https://us-central1-aiplatform.googleapis.com/v1/{NAME}",
            }
        ]
    }
    parsed = json_format.Parse(text, GcpResources())  # what GCPC's launchers do
    assert parsed.resources[0].resource_type == "TuningJob"
    assert gcp_resources.read(str(path), "TuningJob") == NAME
    assert not (tmp_path / "out" / "gcp_resources.tmp").exists()


@pytest.mark.parametrize(
    "content",
    [
        "",
        "not json",
        "[1, 2]",
        '{"resources": "x"}',
        '{"resources": [{"resourceType": "CustomJob", "resourceUri": "x"}]}',
    ],
)
def test_nothing_usable_recorded_reads_as_none(tmp_path, content):
    path = tmp_path / "gcp_resources"
    path.write_text(content)
    assert gcp_resources.read(str(path), "TuningJob") is None


def test_missing_file_or_no_path_reads_as_none(tmp_path):
    assert gcp_resources.read(str(tmp_path / "absent"), "TuningJob") is None
    assert gcp_resources.read(None, "TuningJob") is None


def test_reading_tolerates_unknown_fields_and_proto_field_names(tmp_path):
    path = tmp_path / "gcp_resources"
    uri = f"https://us-central1-aiplatform.googleapis.com/v1beta1/{NAME}"
    path.write_bytes(
        orjson.dumps(
            {
                "resources": [
                    {"resource_type": "CustomJob", "resource_uri": uri, "extra": 1},
                    {"resource_type": "TuningJob", "resource_uri": uri, "extra": 1},
                ],
                "future": True,
            }
        )
    )
    assert gcp_resources.read(str(path), "TuningJob") == NAME
