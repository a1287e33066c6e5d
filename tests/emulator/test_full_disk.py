"""The emulator's state directory on a full disk (issue 22): the cloud it stands in for
does not share the user's disk, so requests go on (state kept in memory, said once) and
the state is saved again once there is room."""

from __future__ import annotations

import errno
import logging
import os

import orjson
from gemini_sft_kfp.emulator.common import store as store_module


def test_a_full_state_disk_keeps_the_change_in_memory_says_so_once_and_saves_it_later(
    tmp_path, monkeypatch, caplog
):
    store = store_module.Store(tmp_path)
    real = store_module.write_atomically

    def full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store_module, "write_atomically", full)
    with caplog.at_level(logging.WARNING):
        for n in range(3):
            with store.lock:
                store.table("models")[str(n)] = {"n": n}
                store.save()  # no error: the request that made the change succeeds
    assert sum("cannot save" in r.getMessage() for r in caplog.records) == 1
    assert set(store.table("models")) == {"0", "1", "2"}

    monkeypatch.setattr(store_module, "write_atomically", real)
    with store.lock:
        store.save()
    saved = orjson.loads((tmp_path / "vertex.json").read_bytes())
    assert set(saved["collections"]["models"]) == {"0", "1", "2"}
