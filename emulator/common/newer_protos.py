"""Messages Vertex AI has and the installed aiplatform protos predate, described here so
requests and responses carrying them are read (snake_case or lowerCamel names, enum names
in any case) and checked (Vertex's wording) like every other field, and answered in
canonical proto JSON (``epochCount`` an int64 string, ``beta`` a number).

Their shape is the REST discovery document's, as Google's generated clients publish it:
``GoogleCloudAiplatformV1PreferenceOptimizationSpec`` {exportLastCheckpointOnly,
hyperParameters, trainingDatasetUri, validationDatasetUri}; the v1beta1 one adds
``evaluationConfig`` (googleapis.dev/dotnet/Google.Apis.Aiplatform.v1 and .v1beta1);
``...PreferenceOptimizationHyperParameters`` {adapterSize, beta (double), epochCount
(int64), learningRateMultiplier (double)}, as google-genai's ``types.py`` has them.
(googleapis' tuning_job.proto and google-cloud-aiplatform up to 2.7.0 lack both.) Field
numbers are the emulator's own: only the JSON names matter here. When the installed
protos gain a message of the same name, theirs is used instead.
"""

from __future__ import annotations

import functools

_FIELDS = {  # message -> [(field, type, type name or "")]
    "PreferenceOptimizationHyperParameters": [
        ("epoch_count", "TYPE_INT64", ""),
        ("learning_rate_multiplier", "TYPE_DOUBLE", ""),
        ("adapter_size", "TYPE_ENUM", "SupervisedHyperParameters.AdapterSize"),
        ("beta", "TYPE_DOUBLE", ""),
    ],
    "PreferenceOptimizationSpec": [
        ("training_dataset_uri", "TYPE_STRING", ""),
        ("validation_dataset_uri", "TYPE_STRING", ""),
        ("hyper_parameters", "TYPE_MESSAGE", "PreferenceOptimizationHyperParameters"),
        ("export_last_checkpoint_only", "TYPE_BOOL", ""),
    ],
}
_BETA_ONLY = {
    "PreferenceOptimizationSpec": [("evaluation_config", "TYPE_MESSAGE", "EvaluationConfig")]
}


@functools.cache
def message_class(api_version: str, name: str):
    """The protobuf class of ``name`` in ``google.cloud.aiplatform.<api_version>``: the
    installed one when it exists, else the one described above."""
    from gemini_sft_kfp.emulator.common.fidelity import message_class as installed
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    package = f"google.cloud.aiplatform.{api_version}"
    pool = descriptor_pool.Default()
    try:
        return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.{name}"))
    except KeyError:
        pass
    tuning_file = installed(api_version, "SupervisedHyperParameters").DESCRIPTOR.file
    proto = descriptor_pb2.FileDescriptorProto(
        name=f"gemini_sft_emulator/newer_{api_version}.proto",
        package=package,
        syntax="proto3",
        dependency=[tuning_file.name],
    )
    for message_name, fields in _FIELDS.items():
        if api_version != "v1":
            fields = fields + _BETA_ONLY.get(message_name, [])
        message = proto.message_type.add(name=message_name)
        for number, (field, kind, type_name) in enumerate(fields, start=1):
            message.field.add(
                name=field,
                number=number,
                label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
                type=descriptor_pb2.FieldDescriptorProto.Type.Value(kind),
                type_name=f".{package}.{type_name}" if type_name else None,
                json_name=_camel(field),
            )
    pool.AddSerializedFile(proto.SerializeToString())
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.{name}"))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)
