"""Emulator speed: create -> get round trip and 200 concurrent generateContent calls.

    python bench/emulator.py [--rounds 200] [--concurrent 200]

Prints its figures; targets: create->get median <= 5 ms on loopback, 200 concurrent
generateContent calls served without error.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import orjson
import psutil
import urllib3

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT, Emulator

PARENT = f"projects/{DEFAULT_PROJECT}/locations/{DEFAULT_LOCATION}"
SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "data" / "train.jsonl"
HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer bench"}


def _upload(emu: Emulator, http: urllib3.PoolManager, data: bytes) -> str:
    http.request(
        "POST",
        f"{emu.gcs_url}/storage/v1/b?project=p",
        body=orjson.dumps({"name": "bench"}),
        headers=HEADERS,
    )
    http.request(
        "POST",
        f"{emu.gcs_url}/upload/storage/v1/b/bench/o?uploadType=media&name=train.jsonl",
        body=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    return "gs://bench/train.jsonl"


def create_get_round_trips(emu: Emulator, uri: str, rounds: int) -> list[float]:
    """Milliseconds for POST tuningJobs + GET of the new job, over one keep-alive connection."""
    pool = urllib3.HTTPConnectionPool("127.0.0.1", emu.port, maxsize=1)
    body = orjson.dumps(
        {
            "baseModel": "gemini-2.5-flash",
            "supervisedTuningSpec": {
                "trainingDatasetUri": uri,
                "hyperParameters": {"epochCount": 3},
            },
        }
    )
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        created = pool.request("POST", f"/v1/{PARENT}/tuningJobs", body=body, headers=HEADERS)
        name = orjson.loads(created.data)["name"]
        fetched = pool.request("GET", f"/v1/{name}", headers=HEADERS)
        timings.append((time.perf_counter() - started) * 1000)
        assert created.status == fetched.status == 200
    return timings


def concurrent_generate(emu: Emulator, endpoint: str, clients: int) -> tuple[int, int, float]:
    """(ok, failed, seconds) for ``clients`` threads each sending one call at the same moment."""
    http = urllib3.PoolManager(maxsize=clients)
    barrier = threading.Barrier(clients)
    statuses: list[int] = []
    lock = threading.Lock()
    request = orjson.dumps(
        {"contents": [{"role": "user", "parts": [{"text": "where is my parcel"}]}]}
    )

    def worker() -> None:
        barrier.wait()
        try:
            status = http.request(
                "POST",
                f"{emu.vertex_url}/v1/{endpoint}:generateContent",
                body=request,
                headers=HEADERS,
                retries=False,
            ).status
        except Exception:
            status = -1
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ok = statuses.count(200)
    return ok, len(statuses) - ok, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--concurrent", type=int, default=200)
    args = parser.parse_args()
    with Emulator(tuning_seconds=0.0) as emu:
        os.environ.update(emu.env)
        http = urllib3.PoolManager()
        small = b"\n".join(SAMPLE.read_bytes().splitlines()[:20]) + b"\n"
        uri = _upload(emu, http, small)
        create_get_round_trips(emu, uri, 10)  # warm-up
        timings = create_get_round_trips(emu, uri, args.rounds)
        median = statistics.median(timings)
        p95 = sorted(timings)[int(0.95 * (len(timings) - 1))]
        print(
            f"create->get round trip (20-example dataset, {args.rounds} rounds): "
            f"median {median:.2f} ms, p95 {p95:.2f} ms  [target <= 5 ms: "
            f"{'met' if median <= 5 else 'MISSED'}]"
        )
        print("  (the same dataset each round: its verdict is cached after the first create)")
        emu.reset()
        uri = _upload(emu, http, SAMPLE.read_bytes())
        cold = create_get_round_trips(emu, uri, 1)[0]
        print(f"first create->get on the 240-example sample (read, parse, validate): {cold:.1f} ms")
        job = orjson.loads(
            http.request(
                "POST",
                f"{emu.vertex_url}/v1/{PARENT}/tuningJobs",
                headers=HEADERS,
                body=orjson.dumps(
                    {
                        "baseModel": "gemini-2.5-flash",
                        "supervisedTuningSpec": {"trainingDatasetUri": uri},
                    }
                ),
            ).data
        )
        job = orjson.loads(http.request("GET", f"{emu.vertex_url}/v1/{job['name']}").data)
        endpoint = job["tunedModel"]["endpoint"]
        ok, failed, seconds = concurrent_generate(emu, endpoint, args.concurrent)
        print(
            f"{args.concurrent} concurrent generateContent calls: {ok} ok, {failed} failed, "
            f"{seconds:.2f} s wall  [target: 0 failed: {'met' if failed == 0 else 'MISSED'}]"
        )
        rss_mb = psutil.Process().memory_info().rss / 1e6
        print(
            f"process RSS after the run (emulator + benchmark client, in-process): {rss_mb:.0f} MB"
        )


if __name__ == "__main__":
    main()
