"""One data file per malformed case: each is reported with its code, line and field."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from gemini_sft_kfp.components.validate_dataset.validator import validate_files

from tests.support import REPO

DATA = Path(__file__).with_name("data")

# file -> (code, line, field) of the finding it must produce (all errors).
ERRORS = {
    "invalid_json.jsonl": ("invalid_json", 2, None),
    "invalid_utf8.jsonl": ("invalid_utf8", 3, None),
    "not_an_object.jsonl": ("not_an_object", 1, None),
    "contents_missing.jsonl": ("contents_missing", 2, "contents"),
    "contents_not_list.jsonl": ("contents_not_list", 2, "contents"),
    "contents_empty.jsonl": ("contents_empty", 2, "contents"),
    "content_not_object.jsonl": ("content_not_object", 2, "contents[0]"),
    "role_invalid.jsonl": ("role_invalid", 2, "contents[1].role"),
    "role_missing.jsonl": ("role_missing", 2, "contents[0].role"),
    "parts_missing.jsonl": ("parts_missing", 2, "contents[0].parts"),
    "parts_not_list.jsonl": ("parts_not_list", 2, "contents[0].parts"),
    "parts_empty.jsonl": ("parts_empty", 2, "contents[0].parts"),
    "part_not_object.jsonl": ("part_not_object", 2, "contents[0].parts[0]"),
    "part_no_data.jsonl": ("part_no_data", 2, "contents[0].parts[0]"),
    "part_multiple_data.jsonl": ("part_multiple_data", 2, "contents[0].parts[0]"),
    "part_unknown_field.jsonl": ("part_unknown_field", 2, "contents[0].parts[0].txt"),
    "text_empty.jsonl": ("text_empty", 2, "contents[1].parts[0].text"),
    "text_not_string.jsonl": ("text_not_string", 2, "contents[0].parts[0].text"),
    "turns_not_alternating.jsonl": ("turns_not_alternating", 2, "contents[1].role"),
    "no_model_turn.jsonl": ("no_model_turn", 2, "contents"),
    "system_instruction_invalid.jsonl": ("system_instruction_invalid", 2, "systemInstruction"),
    "tools_invalid.jsonl": ("tools_invalid", 2, "tools[0].functionDeclarations[0].name"),
    "generation_config_invalid.jsonl": (
        "generation_config_invalid",
        2,
        "generationConfig.mediaResolution",
    ),
    "file_uri_invalid.jsonl": ("file_uri_invalid", 2, "contents[0].parts[1].fileData.fileUri"),
    "mime_type_missing.jsonl": ("mime_type_missing", 2, "contents[0].parts[1].fileData.mimeType"),
    "mime_type_unsupported.jsonl": (
        "mime_type_unsupported",
        2,
        "contents[0].parts[1].fileData.mimeType",
    ),
    "inline_data_invalid_base64.jsonl": (
        "inline_data_invalid_base64",
        2,
        "contents[0].parts[1].inlineData.data",
    ),
    "too_many_images.jsonl": ("too_many_images", 2, "contents"),
    "too_many_audio.jsonl": ("too_many_audio", 2, "contents"),
    "too_many_video.jsonl": ("too_many_video", 2, "contents"),
    "too_many_pdfs.jsonl": ("too_many_pdfs", 2, "contents"),
    "function_call_invalid.jsonl": (
        "function_call_invalid",
        2,
        "contents[1].parts[0].functionCall.name",
    ),
    "function_response_invalid.jsonl": (
        "function_response_invalid",
        2,
        "contents[2].parts[0].functionResponse.response",
    ),
    "video_metadata_invalid.jsonl": (
        "video_metadata_invalid",
        2,
        "contents[0].parts[1].videoMetadata.startOffset",
    ),
    "media_resolution_mismatch.jsonl": (
        "media_resolution_mismatch",
        3,
        "generationConfig.mediaResolution",
    ),
    "empty.jsonl": ("file_empty", None, None),
}

WARNINGS = {
    "blank_line.jsonl": ("blank_line", 2, None),
    "unknown_field.jsonl": ("unknown_field", 2, "metadata"),
    "first_turn_not_user.jsonl": ("first_turn_not_user", 2, "contents[0].role"),
    "last_turn_not_model.jsonl": ("last_turn_not_model", 2, "contents[2].role"),
    "utf8_bom.jsonl": ("utf8_bom", 1, None),
    # formats the pipeline converts on the fly: valid after conversion, as there
    "legacy_openai.jsonl": ("converted_format", 1, None),
    "legacy_gemini_1_0.jsonl": ("converted_format", 1, None),
    "legacy_palm.jsonl": ("converted_format", 1, None),
    "legacy_gemini_api.jsonl": ("converted_format", 1, None),
}


def _find(findings, code):
    matches = [f for f in findings if f.code == code]
    assert matches, f"no {code} in {[str(f) for f in findings]}"
    return matches[0]


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_malformed_file_is_invalid_with_code_line_and_field(name):
    code, line, field = ERRORS[name]
    path = str(DATA / name)
    report = validate_files(path)
    assert not report.valid
    finding = _find(report.errors, code)
    assert (finding.file, finding.line, finding.field) == (path, line, field)
    if field:  # the message names the field too, for humans reading the one-line form
        assert field.split(".")[-1].split("[")[0] in finding.message


@pytest.mark.parametrize("name", sorted(WARNINGS))
def test_questionable_file_is_valid_with_a_warning(name):
    code, line, field = WARNINGS[name]
    report = validate_files(str(DATA / name))
    assert report.valid, [str(e) for e in report.errors]
    finding = _find(report.warnings, code)
    assert (finding.line, finding.field) == (line, field)


@pytest.mark.parametrize(
    ("name", "source_format"),
    [
        ("legacy_openai.jsonl", "openai"),
        ("legacy_gemini_1_0.jsonl", "gemini-1.0"),
        ("legacy_palm.jsonl", "palm"),
        ("legacy_gemini_api.jsonl", "gemini-api"),
    ],
)
def test_legacy_format_warning_names_format_and_exact_convert_command(name, source_format):
    path = str(DATA / name)
    finding = _find(validate_files(path).warnings, "converted_format")
    assert f"gemini-sft convert {path} OUT.jsonl --from {source_format}" in finding.message
    assert validate_files(path).stats["legacyFormats"] == {source_format: 1}


def test_a_legacy_line_the_converter_refuses_is_a_legacy_format_error_with_its_reason(tmp_path):
    path = tmp_path / "openai.jsonl"
    line = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": 3}]}
    path.write_bytes(orjson.dumps(line) + b"\n")
    finding = _find(validate_files(str(path)).errors, "legacy_format")
    assert (finding.line, finding.field) == (1, "messages[1].content")
    assert "OpenAI chat format" in finding.message and "must be a string" in finding.message


def test_invalid_utf8_message_points_at_the_bad_byte():
    path = DATA / "invalid_utf8.jsonl"
    bad_line = path.read_bytes().splitlines()[2]
    finding = _find(validate_files(str(path)).errors, "invalid_utf8")
    bad_byte = bad_line.index(b"\xe9") + 1
    assert f"byte {bad_byte} of the line" in finding.message


def test_heic_images_need_a_gemini_25_model(tmp_path):
    line = (
        '{"contents": [{"role": "user", "parts": [{"text": "what?"}, {"fileData": '
        '{"mimeType": "image/heic", "fileUri": "gs://b/x.heic"}}]}, '
        '{"role": "model", "parts": [{"text": "a cat"}]}]}\n'
    )
    path = tmp_path / "heic.jsonl"
    path.write_text(line * 20)
    assert validate_files(str(path), model="gemini-2.5-flash").valid
    report = validate_files(str(path), model="gemini-2.0-flash-001")
    assert "Gemini 2.5" in _find(report.errors, "mime_type_unsupported").message


def test_every_code_is_documented_and_used():
    from gemini_sft_kfp.components.validate_dataset.codes import CODES

    package = REPO / "components" / "validate_dataset"
    readme = (package / "README.md").read_text()
    sources = "".join(p.read_text() for p in package.glob("*.py") if p.name != "codes.py")
    for code in CODES:
        assert f"`{code}`" in readme, code
        assert f'"{code}"' in sources, f"{code} is never reported"


@pytest.fixture(scope="module")
def cli():
    import typer
    from typer.testing import CliRunner

    from gemini_sft_kfp.cli import dataset

    app = typer.Typer()
    dataset.register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_cli_exits_1_with_the_finding_and_no_traceback(cli, name):
    code, line, field = ERRORS[name]
    path = str(DATA / name)
    result = cli("validate", path, "--json")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash
    payload = orjson.loads(result.stdout)  # one JSON object and nothing else
    assert payload["valid"] is False
    assert {"file": path, "line": line, "code": code, "field": field} in [
        {k: e[k] for k in ("file", "line", "code", "field")} for e in payload["errors"]
    ]
