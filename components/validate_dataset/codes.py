"""Every finding the validator can report: a stable code, its severity and what it means.

Codes are part of the CLI's JSON contract (scripts match on them), so they never change
meaning; new checks get new codes.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"

# code -> (severity, one-line meaning). The message of each finding adds file, line, field.
CODES: dict[str, tuple[str, str]] = {
    # file level
    "file_not_found": (ERROR, "the file does not exist"),
    "file_unreadable": (ERROR, "the file cannot be read"),
    "file_too_large": (ERROR, "the file is larger than the service accepts"),
    "file_empty": (ERROR, "the file holds no examples"),
    "file_not_jsonl": (ERROR, "the file is compressed or binary, not JSON Lines"),
    "too_many_examples": (ERROR, "more training examples than the model family accepts"),
    "too_many_validation_examples": (ERROR, "more validation examples than accepted"),
    "unconfirmed_limit": (
        WARNING,
        "over a limit not published for this model (inherited from its family): "
        "the service decides",
    ),
    "too_few_examples": (WARNING, "fewer examples than tuning needs to learn anything"),
    "utf8_bom": (WARNING, "the file starts with a UTF-8 byte-order mark"),
    "blank_line": (WARNING, "blank lines are skipped"),
    "validation_overlap": (WARNING, "training examples that are also validation examples"),
    # line level: encoding and shape
    "line_too_long": (ERROR, "the line is longer than any example a model accepts"),
    "invalid_utf8": (ERROR, "the line holds bytes that are not UTF-8"),
    "invalid_json": (ERROR, "the line is not valid JSON"),
    "not_an_object": (ERROR, "the line is JSON but not an object"),
    "legacy_format": (ERROR, "the line is in an older dataset format; convert it"),
    "converted_format": (
        WARNING,
        "lines in another format (OpenAI, TRL, ...): checked as converted, as the pipeline "
        "converts them",
    ),
    "method_mismatch": (
        ERROR,
        "a line or file of the other tuning method (supervised vs preference) than the file's",
    ),
    "unknown_field": (WARNING, "a key the tuning service does not know"),
    "contents_missing": (ERROR, "the required `contents` field is missing"),
    "contents_not_list": (ERROR, "`contents` is not a list"),
    "contents_empty": (ERROR, "`contents` is an empty list"),
    "content_not_object": (ERROR, "a turn of `contents` is not an object"),
    "role_missing": (ERROR, "a turn has no `role`"),
    "role_invalid": (ERROR, "a turn's `role` is not `user` or `model`"),
    "parts_missing": (ERROR, "a turn has no `parts`"),
    "parts_not_list": (ERROR, "`parts` is not a list"),
    "parts_empty": (ERROR, "`parts` is an empty list"),
    "part_not_object": (ERROR, "a part is not an object"),
    "part_no_data": (ERROR, "a part holds none of text/inlineData/fileData/functionCall/..."),
    "part_multiple_data": (ERROR, "a part holds more than one kind of data"),
    "part_unknown_field": (ERROR, "a part holds a key that is not a part field"),
    "text_not_string": (ERROR, "`text` is not a string"),
    "text_empty": (ERROR, "`text` is empty"),
    "first_turn_not_user": (WARNING, "the conversation does not start with a user turn"),
    "turns_not_alternating": (ERROR, "two consecutive turns have the same role"),
    "no_model_turn": (ERROR, "no `model` turn: the example teaches nothing"),
    "last_turn_not_model": (WARNING, "the last turn is not a `model` turn"),
    "system_instruction_invalid": (ERROR, "`systemInstruction` is malformed"),
    "tools_invalid": (ERROR, "`tools` is malformed"),
    "generation_config_invalid": (ERROR, "`generationConfig` is malformed"),
    "media_resolution_mismatch": (ERROR, "`generationConfig.mediaResolution` differs"),
    # preference data (contents ending on a user turn + two scored completions)
    "last_turn_not_user": (ERROR, "preference `contents` must end with a user turn (the prompt)"),
    "completions_missing": (ERROR, "the required `completions` field is missing"),
    "completions_not_list": (ERROR, "`completions` is not a list"),
    "completions_not_two": (ERROR, "`completions` does not hold exactly two completions"),
    "completion_not_object": (ERROR, "a completion is not a {score, completion} object"),
    "completion_role_invalid": (ERROR, "a completion's `role` is not `model`"),
    "score_missing": (ERROR, "a completion has no `score`"),
    "score_invalid": (ERROR, "a `score` is not the number 0 or 1"),
    "scores_not_a_pair": (ERROR, "the scores are not one preferred (1) and one dispreferred (0)"),
    "not_text_only": (ERROR, "preference data is text only: no media or function parts"),
    # parts: media and function calls
    "inline_data_invalid": (ERROR, "`inlineData` is malformed"),
    "inline_data_invalid_base64": (ERROR, "`inlineData.data` is not valid base64"),
    "file_data_invalid": (ERROR, "`fileData` is malformed"),
    "file_uri_invalid": (ERROR, "`fileData.fileUri` is not gs:// or https://"),
    "mime_type_missing": (ERROR, "`mimeType` is missing"),
    "mime_type_unsupported": (ERROR, "`mimeType` is not a supported media type"),
    "function_call_invalid": (ERROR, "`functionCall` is malformed"),
    "function_response_invalid": (ERROR, "`functionResponse` is malformed"),
    "video_metadata_invalid": (ERROR, "`videoMetadata` is malformed"),
    "too_many_images": (ERROR, "more images in one example than allowed"),
    "too_many_audio": (ERROR, "more audio files in one example than allowed"),
    "too_many_video": (ERROR, "more videos in one example than allowed"),
    "too_many_pdfs": (ERROR, "more PDFs in one example than allowed"),
    # tokens
    "over_token_limit": (WARNING, "examples longer than the model's limit are truncated"),
    "token_count_failed": (WARNING, "exact token counting failed; the estimate is used"),
}


def severity(code: str) -> str:
    return CODES[code][0]


@dataclass(frozen=True, slots=True)
class Finding:
    """One error or warning: where it is and what to do about it."""

    file: str
    line: int | None
    code: str
    message: str
    field: str | None = None

    @property
    def severity(self) -> str:
        return severity(self.code)

    def __str__(self) -> str:
        location = self.file if self.line is None else f"{self.file}:{self.line}"
        field = f" [{self.field}]" if self.field else ""
        return f"{location}{field}: {self.code}: {self.message}"

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "code": self.code,
            "message": self.message,
            "field": self.field,
        }
