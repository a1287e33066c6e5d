"""Image rewriting of compiled specs (no pipeline compile needed)."""

from __future__ import annotations

from gemini_sft_kfp.pipelines.compile import executor_images, resolve_image, set_image

SPEC = """# PIPELINE DEFINITION
# Name: p
deploymentSpec:
  executors:
    exec-a:
      container:
        image: old/image:1
    exec-b:
      container:
        image: old/image:1
pipelineInfo:
  name: p
"""


def test_every_executor_image_is_rewritten():
    rewritten = set_image(SPEC, "new/image:2")
    assert executor_images(rewritten) == {"new/image:2"}
    assert rewritten.count("image: new/image:2\n") == 2
    assert rewritten.startswith("# PIPELINE DEFINITION")  # header comments kept


def test_image_precedence(monkeypatch):
    from gemini_sft_kfp.runtime.image import DEFAULT_IMAGE, IMAGE_ENV

    monkeypatch.delenv(IMAGE_ENV, raising=False)
    assert resolve_image() == DEFAULT_IMAGE
    monkeypatch.setenv(IMAGE_ENV, "env/image:1")
    assert resolve_image() == "env/image:1"
    assert resolve_image("flag/image:1") == "flag/image:1"
