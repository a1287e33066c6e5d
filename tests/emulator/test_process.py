"""The emulator as a separate process: started, driven over its hooks, stopped."""

from __future__ import annotations

import httpx
from gemini_sft_kfp.emulator.common.process import EmulatorProcess


def test_child_process_serves_and_honours_hooks():
    with EmulatorProcess(tuning_seconds=0.5) as emu:
        assert set(emu.env) == {"VERTEX_AI_EMULATOR_HOST", "STORAGE_EMULATOR_HOST"}
        emu.add_fault(method="tuningJobs.list", status=503, times=1)
        url = f"{emu.vertex_url}/v1/projects/p/locations/us-central1/tuningJobs"
        assert httpx.get(url).status_code == 503
        assert httpx.get(url).status_code == 200
        assert [r["status"] for r in emu.requests()] == [503, 200]
        emu.reset()
        assert emu.requests() == []
        vertex_url = emu.vertex_url
    try:
        httpx.get(f"{vertex_url}/emulator/requests", timeout=1)
        raise AssertionError("the emulator process still answers after stop()")
    except httpx.TransportError:
        pass
