# Source: GoogleCloudPlatform/python-docs-samples@683bf45f8f608cf0248d485d2c60de22e356b2db
#   genai/text_generation/textgen_with_txt.py (git blob 4825aac92123fda4d1d00eb9edd3d841848cbce6)
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


def generate_content() -> str:
    # [START googlegenaisdk_textgen_with_txt]
    from google import genai
    from google.genai.types import HttpOptions

    client = genai.Client(http_options=HttpOptions(api_version="v1"))
    response = client.models.generate_content(
        model="gemini-3.5-flash",
        contents="How does AI work?",
    )
    print(response.text)
    # Example response:
    # Okay, let's break down how AI works. It's a broad field, so I'll focus on the ...
    #
    # Here's a simplified overview:
    # ...
    # [END googlegenaisdk_textgen_with_txt]
    return response.text


if __name__ == "__main__":
    generate_content()
