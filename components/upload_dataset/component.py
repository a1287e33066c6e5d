"""KFP component: put a JSONL dataset in Cloud Storage where the tuning service reads it."""

from kfp.dsl import Dataset, Input, Output

from gemini_sft_kfp.core import defaults
from gemini_sft_kfp.runtime.image import sft_component


@sft_component
def upload_dataset(
    project: str,
    bucket: str,
    gcs_dataset: Output[Dataset],
    dataset: Input[Dataset] = None,
    source_uri: str = "",
    prefix: str = defaults.DATASET_PREFIX,
    file_name: str = "train.jsonl",
    copy_gcs_source: bool = False,
) -> str:
    """Upload ``dataset`` (artifact) or ``source_uri`` (local path, https, gs://).

    The destination is ``gs://bucket/prefix/<sha256>/file_name``: an unchanged dataset
    is not uploaded again, nothing is overwritten, a failed upload leaves no object. A
    gs:// source is used in place unless ``copy_gcs_source``. Returns the gs:// URI,
    or "" when the input is empty (e.g. no validation set): nothing is written then.
    """
    import logging

    from gemini_sft_kfp.components.upload_dataset.executor import artifact_source
    from gemini_sft_kfp.components.upload_dataset.executor import run as upload

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    local_path, copy = "", copy_gcs_source
    if dataset is not None:
        local_path, gs_uri = artifact_source(dataset.path, dataset.uri)
        if gs_uri:
            source_uri, copy = gs_uri, True
    result = upload(
        project,
        local_path=local_path,
        source_uri=source_uri,
        bucket=bucket,
        prefix=prefix,
        file_name=file_name,
        copy_gcs_source=copy,
    )
    if result.uri:
        gcs_dataset.uri = result.uri
    gcs_dataset.metadata.update(result.metadata())
    gcs_dataset.metadata["empty"] = not result.uri
    return result.uri
