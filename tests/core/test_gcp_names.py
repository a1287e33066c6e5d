"""Names checked as Vertex would: the region list is the locked SDK's, without its import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.gcp_names import VERTEX_AI_LOCATIONS, check_location


def test_region_list_matches_the_locked_sdk():
    from google.cloud.aiplatform.constants import base

    assert frozenset(base.SUPPORTED_REGIONS) == VERTEX_AI_LOCATIONS, (
        "the Vertex AI SDK's SUPPORTED_REGIONS changed: update VERTEX_AI_LOCATIONS"
    )


def test_known_regions_only_where_asked():
    assert check_location("us-central1", known_only=True) == "us-central1"
    assert check_location("global", known_only=True) == "global"
    assert check_location("mars-north1") == "mars-north1"  # syntax only
    with pytest.raises(UserError, match="did you mean us-central1"):
        check_location("us-centra1", known_only=True)
    with pytest.raises(UserError, match="invalid Vertex AI location"):
        check_location("us central1")


def test_checking_a_location_does_not_import_the_vertex_sdk():
    code = (
        "import sys\n"
        "from gemini_sft_kfp.core.gcp_names import check_location\n"
        "check_location('us-central1'); check_location('europe-west4', known_only=True)\n"
        "assert 'google.cloud.aiplatform' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
