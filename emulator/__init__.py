"""Local emulator of Vertex AI (tuning, models, endpoints, generation, pipelines) and
Cloud Storage that the real client libraries talk to. Training and answers are simulated.

    from gemini_sft_kfp.emulator import Emulator
    with Emulator(tuning_seconds=1) as emu:
        os.environ.update(emu.env)
"""

from gemini_sft_kfp.emulator.common.projects import DEFAULT_PROJECT
from gemini_sft_kfp.emulator.server import DEFAULT_LOCATION, Emulator

__all__ = ["DEFAULT_LOCATION", "DEFAULT_PROJECT", "Emulator"]
