# Source: GoogleCloudPlatform/python-docs-samples@683bf45f8f608cf0248d485d2c60de22e356b2db
#   genai/tuning/tuning_with_checkpoints_textgen_with_txt.py (git blob 27719c2b52cb6ea545856b32c84489bdec663fdc)
# Verbatim below this header (no placeholder needed changing); run by ../../test_samples.py.

# Copyright 2025 Google LLC
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#    https://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.


def predict_with_checkpoints(tuning_job_name: str) -> str:
    # [START googlegenaisdk_tuning_with_checkpoints_test]
    from google import genai
    from google.genai.types import HttpOptions

    client = genai.Client(http_options=HttpOptions(api_version="v1"))

    # Get the tuning job and the tuned model.
    # Eg. tuning_job_name = "projects/123456789012/locations/us-central1/tuningJobs/123456789012345"
    tuning_job = client.tunings.get(name=tuning_job_name)

    contents = "Why is the sky blue?"

    # Predicts with the default checkpoint.
    response = client.models.generate_content(
        model=tuning_job.tuned_model.endpoint,
        contents=contents,
    )
    print(response.text)
    # Example response:
    # The sky is blue because ...

    # Predicts with Checkpoint 1.
    checkpoint1_response = client.models.generate_content(
        model=tuning_job.tuned_model.checkpoints[0].endpoint,
        contents=contents,
    )
    print(checkpoint1_response.text)
    # Example response:
    # The sky is blue because ...

    # Predicts with Checkpoint 2.
    checkpoint2_response = client.models.generate_content(
        model=tuning_job.tuned_model.checkpoints[1].endpoint,
        contents=contents,
    )
    print(checkpoint2_response.text)
    # Example response:
    # The sky is blue because ...

    # [END googlegenaisdk_tuning_with_checkpoints_test]
    return response.text


if __name__ == "__main__":
    input_tuning_job_name = input("Tuning job name: ")
    predict_with_checkpoints(input_tuning_job_name)
