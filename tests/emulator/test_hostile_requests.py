"""Requests Google refuses are refused here too, promptly and with a 4xx: each of these
passed (or hung, or answered 500) on the emulator and would fail on the real service."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import quote

import pytest

from gemini_sft_kfp.core.clients import storage_client
from tests.support.emu_helpers import PARENT

PROMPT_SECONDS = 2.0


def _port(emu, variable: str) -> int:
    return int(emu.env[variable].rsplit(":", 1)[1])


def raw_request(
    port: int,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    content_type: str | None = None,
    content_length: str | None = None,
) -> tuple[int, dict, float]:
    """One request with exactly the headers given; (status, JSON body, seconds to answer)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        length = content_length if content_length is not None else str(len(body))
        if body or content_length is not None:
            connection.putheader("Content-Length", length)
        if content_type:
            connection.putheader("Content-Type", content_type)
        connection.endheaders()
        start = time.monotonic()
        if body:
            connection.send(body)
        response = connection.getresponse()
        data = response.read()
        return response.status, json.loads(data or b"{}"), time.monotonic() - start
    finally:
        connection.close()


@pytest.fixture
def vertex(emu) -> int:
    return _port(emu, "VERTEX_AI_EMULATOR_HOST")


@pytest.fixture
def gcs(emu) -> int:
    storage_client("local-project").create_bucket("hostile")
    return _port(emu, "STORAGE_EMULATOR_HOST")


def test_object_names_that_differ_only_in_slashes_are_two_objects(gcs):
    bucket = storage_client("local-project").bucket("hostile")
    bucket.blob("c/d").upload_from_string(b"one")
    bucket.blob("c//d").upload_from_string(b"two")
    assert bucket.blob("c/d").download_as_bytes() == b"one"
    assert bucket.blob("c//d").download_as_bytes() == b"two"
    assert sorted(b.name for b in bucket.list_blobs()) == ["c//d", "c/d"]


def test_an_object_name_with_nul_is_a_400(gcs):
    path = "/upload/storage/v1/b/hostile/o?uploadType=media&name=a%00b"
    status, body, _ = raw_request(gcs, "POST", path, b"x", content_type="text/plain")
    assert status == 400 and body["error"]["errors"][0]["reason"] == "invalid"


@pytest.mark.parametrize(
    ("body", "missing"),
    [({"sourceObjects": [{"name": "s"}]}, "destination"), ({"destination": {}}, "sourceObjects")],
)
def test_compose_without_a_destination_or_sources_is_a_400(gcs, body, missing):
    storage_client("local-project").bucket("hostile").blob("s").upload_from_string(b"s")
    status, answer, _ = raw_request(
        gcs,
        "POST",
        "/storage/v1/b/hostile/o/out/compose",
        json.dumps(body).encode(),
        content_type="application/json",
    )
    assert status == 400 and missing in answer["error"]["message"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"contentType=text%2Fplain"),
        (
            "multipart/related; boundary=b",
            b"--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b--",
        ),
    ],
)
def test_the_gcs_json_api_refuses_form_and_multipart_bodies(gcs, content_type, body):
    storage_client("local-project").bucket("hostile").blob("o").upload_from_string(b"o")
    status, answer, _ = raw_request(
        gcs, "PATCH", "/storage/v1/b/hostile/o/o", body, content_type=content_type
    )
    assert status == 400 and answer["error"]["errors"][0]["reason"] == "parseError"
    if content_type.startswith("application/x-www-form-urlencoded"):
        assert answer["error"]["message"] == "This API does not support parsing form-encoded input."


def test_multipart_uploads_are_still_accepted(gcs):
    body = (
        b"--b\r\nContent-Type: application/json\r\n\r\n"
        b'{"name": "m.txt"}\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n'
    )
    status, answer, _ = raw_request(
        gcs,
        "POST",
        "/upload/storage/v1/b/hostile/o?uploadType=multipart",
        body,
        content_type="multipart/related; boundary=b",
    )
    assert status == 200 and answer["name"] == "m.txt"


def test_vertex_binds_a_form_body_as_query_parameters_like_google_front_end(vertex):
    """ESF reads a form body as query parameters: a JSON text sent as a form is one
    unknown parameter named by the whole text (observed on sheets.googleapis.com,
    VBA-tools/VBA-Web#332), each other name likewise."""
    text = '{"baseModel": "gemini-2.5-flash"}'
    status, answer, _ = raw_request(
        vertex,
        "POST",
        f"/v1/{PARENT}/tuningJobs",
        text.encode(),
        content_type="application/x-www-form-urlencoded",
    )
    expected = (
        f'Invalid JSON payload received. Unknown name "{text}": Cannot bind query parameter. '
        f"Field '{text}' could not be found in request message."
    )
    assert (status, answer["error"]["status"]) == (400, "INVALID_ARGUMENT")
    assert answer["error"]["message"] == expected
    violations = answer["error"]["details"][0]["fieldViolations"]
    assert violations == [{"description": expected}]
    form = b"baseModel=gemini-2.5-flash&prettyPrint=false"
    status, answer, _ = raw_request(
        vertex,
        "POST",
        f"/v1/{PARENT}/tuningJobs",
        form,
        content_type="application/x-www-form-urlencoded; charset=utf-8",
    )
    assert status == 400 and 'Unknown name "baseModel"' in answer["error"]["message"]
    assert "prettyPrint" not in answer["error"]["message"]  # a system parameter binds


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (
            "multipart/related; boundary=b",
            b"--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b--",
        ),
        ("text/plain", b"{}"),
    ],
)
def test_vertex_refuses_bodies_that_are_not_json(vertex, content_type, body):
    status, answer, _ = raw_request(
        vertex, "POST", f"/v1/{PARENT}/tuningJobs", body, content_type=content_type
    )
    assert status == 400 and answer["error"]["status"] == "INVALID_ARGUMENT"
    assert "not documented" in answer["error"]["message"]


def _create_path(service: str) -> str:
    """A create with a body, on the Vertex AI or the Cloud Storage front end."""
    if service == "vertex":
        return f"/v1/{PARENT}/tuningJobs"
    return "/upload/storage/v1/b/hostile/o?uploadType=media&name=q"


@pytest.mark.parametrize(
    ("service", "length", "status"),
    [
        ("vertex", "-5", 400),
        ("vertex", "abc", 400),
        ("vertex", "99999999999999", 413),
        ("gcs", "-5", 400),
        ("gcs", "99999999999999", 413),
    ],
)
def test_a_bad_or_huge_content_length_is_answered_at_once(request, service, length, status):
    port = request.getfixturevalue(service)
    path = _create_path(service)
    answered, _, seconds = raw_request(
        port, "POST", path, content_type="application/json", content_length=length
    )
    assert (answered, seconds < PROMPT_SECONDS) == (status, True)


@pytest.mark.parametrize("text", ['labels.a="b', 'labels.a="b" AND state="JOB', 'labels.a=b"'])
@pytest.mark.parametrize("collection", ["tuningJobs", "models"])
def test_an_unterminated_filter_is_invalid_argument(vertex, collection, text):
    status, answer, _ = raw_request(
        vertex, "GET", f"/v1/{PARENT}/{collection}?filter={quote(text)}"
    )
    assert status == 400 and answer["error"]["status"] == "INVALID_ARGUMENT"


def _post(port: int, path: str, body: dict) -> tuple[int, dict]:
    status, answer, _ = raw_request(
        port, "POST", f"/v1/{PARENT}/{path}", json.dumps(body).encode(),
        content_type="application/json",
    )  # fmt: skip
    return status, answer


def _tuning(uri: str, validation: str | None = None) -> dict:
    spec = {
        "trainingDatasetUri": uri,
        **({"validationDatasetUri": validation} if validation else {}),
    }
    return {"baseModel": "gemini-2.5-flash", "supervisedTuningSpec": spec}


def _batch(source: str, prefix: str) -> dict:
    return {
        "displayName": "hostile",
        "model": "publishers/google/models/gemini-2.5-flash",
        "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": [source]}},
        "outputConfig": {
            "predictionsFormat": "jsonl",
            "gcsDestination": {"outputUriPrefix": prefix},
        },
    }


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("tuningJobs", _tuning("gs://"), "training_dataset_uri"),  # was a 500
        ("tuningJobs", _tuning("gs://b"), "training_dataset_uri"),  # was a 500
        ("tuningJobs", _tuning("gs:///x.jsonl"), "training_dataset_uri"),
        ("tuningJobs", _tuning("gs://b/t.jsonl", "gs://"), "validation_dataset_uri"),
        ("batchPredictionJobs", _batch("gs://", "gs://b/out"), "gcs_source.uris"),  # was 200
        ("batchPredictionJobs", _batch("gs://b/in.jsonl", "gs://"), "output_uri_prefix"),
    ],
    ids=[
        "train-bare",
        "train-bucket-only",
        "train-no-bucket",
        "validation-bare",
        "batch-source-bare",
        "batch-prefix-bare",
    ],
)
def test_a_gs_uri_without_bucket_or_object_is_a_400(vertex, path, body, field):
    status, answer = _post(vertex, path, body)
    assert status == 400, answer
    assert field in answer["error"]["message"]


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"maxOutputTokens": -1}, "maxOutputTokens"),  # was answered
        ({"maxOutputTokens": 0}, "maxOutputTokens"),
        ({"topP": 2}, "topP"),  # was answered
        ({"topP": -0.5}, "topP"),
        ({"temperature": 2.5}, "temperature"),
    ],
)
def test_generation_config_out_of_range_is_a_400(vertex, config, field):
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": config}
    status, answer = _post(
        vertex, "publishers/google/models/gemini-2.5-flash:generateContent", body
    )
    assert status == 400, answer
    assert f"has a {field} value of" in answer["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "body", "words"),
    [
        # upstream: a KeyError answered 500 (a client retries a 500: minutes of waiting)
        ("POST", "/upload/storage/v1/b/hostile/o?uploadType=media", b"x", "Required: name"),
        ("POST", "/upload/storage/v1/b/hostile/o?uploadType=bogus&name=x", b"x", "upload type"),
        ("POST", "/upload/storage/v1/b/hostile/o?name=x", b"x", "upload type"),
        ("GET", "/storage/v1/b/hostile/o?maxResults=-1", b"", "maxResults"),  # was 200
        ("GET", "/storage/v1/b/hostile/o?maxResults=ten", b"", "maxResults"),  # was 200
        ("GET", "/storage/v1/b/hostile/o/s?generation=abc", b"", "generation"),  # was 200
        (
            "POST",
            "/upload/storage/v1/b/hostile/o?uploadType=media&name=x&ifGenerationMatch=1.5",
            b"x",
            "ifGenerationMatch",
        ),
    ],
    ids=[
        "media-no-name",
        "upload-type-bogus",
        "upload-type-missing",
        "max-results-negative",
        "max-results-word",
        "generation-word",
        "precondition-float",
    ],
)
def test_gcs_query_mistakes_are_a_400(gcs, method, path, body, words):
    storage_client("local-project").bucket("hostile").blob("s").upload_from_string(b"s")
    status, answer, _ = raw_request(gcs, method, path, body, content_type="text/plain")
    assert status == 400, answer
    assert words in answer["error"]["message"]


@pytest.mark.parametrize(
    ("sources", "words"),
    [
        ([{"name": "s"}] * 33, "exceeds the maximum (32)"),  # was composed
        ([{}], "sourceObjects[0].name"),  # was a 500
        ([{"name": "s"}, "s"], "sourceObjects[1].name"),  # was a 500
    ],
    ids=["33-sources", "source-without-name", "source-not-an-object"],
)
def test_compose_sources_are_checked_as_cloud_storage_does(gcs, sources, words):
    storage_client("local-project").bucket("hostile").blob("s").upload_from_string(b"s")
    body = json.dumps({"sourceObjects": sources, "destination": {}}).encode()
    status, answer, _ = raw_request(
        gcs, "POST", "/storage/v1/b/hostile/o/out/compose", body, content_type="application/json"
    )
    assert status == 400 and words in answer["error"]["message"], answer


def test_the_gcs_client_still_lists_composes_and_reads_generations(gcs):
    """The checks above leave what the real client sends alone."""
    bucket = storage_client("local-project").bucket("hostile")
    for name in ("a", "b"):
        bucket.blob(name).upload_from_string(name.encode())
    status, _, _ = raw_request(gcs, "GET", "/storage/v1/b/hostile/o?maxResults=1")
    assert status == 200 and [b.name for b in bucket.list_blobs()] == ["a", "b"]
    out = bucket.blob("ab")
    out.compose([bucket.blob("a"), bucket.blob("b")])
    generation = bucket.get_blob("ab").generation
    assert bucket.blob("ab", generation=generation).download_as_bytes() == b"ab"


@pytest.mark.parametrize("service", ["vertex", "gcs"])
def test_a_content_length_in_other_digits_is_a_400(request, service):
    """``"²".isdigit()`` is True: Vertex answered 500, Cloud Storage dropped the connection."""
    port = request.getfixturevalue(service)
    path = _create_path(service)
    answered, _, seconds = raw_request(
        port, "POST", path, content_type="application/json", content_length="²"
    )
    assert (answered, seconds < PROMPT_SECONDS) == (400, True)


def test_an_object_insert_sent_to_the_metadata_url_is_wrong_url_for_upload(gcs):
    """Cloud Storage's status-codes page: 400 ``wrongUrlForUpload`` (not the upstream
    emulator's empty 501)."""
    status, answer, _ = raw_request(
        gcs,
        "POST",
        "/storage/v1/b/hostile/o?name=x",
        b'{"name": "x"}',
        content_type="application/json",
    )
    assert status == 400 and answer["error"]["errors"][0]["reason"] == "wrongUrlForUpload"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/v1/{PARENT}/tuningJobs?pageSize=5&page_size_typo=5"),
        ("GET", f"/v1/{PARENT}/tuningJobs/1?readMask=name"),  # GetTuningJobRequest has none
        ("POST", f"/v1/{PARENT}/publishers/google/models/gemini-2.5-flash:countTokens?x=1"),
    ],
)
def test_a_query_parameter_no_request_field_takes_is_a_400_like_google_front_end(
    vertex, method, path
):
    """ESF binds query parameters to the request message's fields; any other name is
    "Cannot bind query parameter" (People API: rapidwebltd/php-google-people-api#25,
    Analytics Admin: googleapis/google-cloud-node#4593). A ``body: "*"`` method binds none."""
    name = path.rsplit("&", 1)[-1].rsplit("?", 1)[-1].split("=")[0]
    body = b'{"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}'
    status, answer, _ = raw_request(
        vertex, method, path, body if method == "POST" else b"", content_type="application/json"
    )
    assert (status, answer["error"]["status"]) == (400, "INVALID_ARGUMENT"), answer
    assert answer["error"]["message"] == (
        f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query parameter. '
        f"Field '{name}' could not be found in request message."
    )


def test_request_fields_and_system_parameters_bind_as_query_parameters(vertex):
    query = "page_size=2&pageToken=&filter=&%24alt=json%3Benum-encoding%3Dint&prettyPrint=false"
    status, answer, _ = raw_request(vertex, "GET", f"/v1/{PARENT}/tuningJobs?{query}")
    assert status == 200, answer
