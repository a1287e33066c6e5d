"""Concurrent requests are safe: no lost jobs, no duplicate ids, no failed calls."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import orjson

from tests.support.emu_helpers import PARENT, call, example_lines, tuning_body, upload


def test_concurrent_creates_and_reads(fast):
    uri = upload(example_lines(), "gs://b/t.jsonl")
    body = tuning_body(uri)

    def create_and_get(_):
        status, created, _ = call(fast, "POST", f"{PARENT}/tuningJobs", body)
        assert status == 200
        return call(fast, "GET", created["name"])[1]["name"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        names = list(pool.map(create_and_get, range(64)))
    assert len(set(names)) == 64
    listed = call(fast, "GET", f"{PARENT}/tuningJobs?pageSize=100")[1]["tuningJobs"]
    assert {job["name"] for job in listed} == set(names)


def test_concurrent_generate_on_one_endpoint(fast, tuned_job):
    endpoint = tuned_job["tunedModel"]["endpoint"]
    request = {"contents": [{"role": "user", "parts": [{"text": "ticket 3: my invoice"}]}]}

    def generate(_):
        status, body, _ = call(fast, "POST", f"{endpoint}:generateContent", request)
        return status, body["candidates"][0]["content"]["parts"][0]["text"]

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(generate, range(100)))
    assert {result for result in results} == {(200, "queue: billing")}
    assert len(fast.requests()) >= 100
    assert orjson.loads(fast.dump_state())["endpoints"]
