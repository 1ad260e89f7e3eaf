"""GET /predictions/current at fleet scale, as a ratio to GET /health on the same run.

Starts `argus serve` (rate limits off, the fallback forecaster), feeds SERVERS servers, then keeps
feeding one 5-minute step per second (so prediction cycles keep running) while CLIENTS threads
poll: half `/predictions/current` with `Accept-Encoding: gzip` (what a dashboard sends), half
`/health`. Prints p50/p99 of each, the ratio, body sizes and the cycles that ran during the
measurement. The client threads share the machine with the daemon, so absolute figures depend on
it; the ratio to /health is the comparable number.

Usage: PYTHONPATH=. python bench/read_scale.py [--servers 1000] [--clients 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_daemon import Daemon, fleet, record  # noqa: E402

START = datetime(2025, 1, 15)
HISTORY_STEPS = 24


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def poll(url: str, headers: dict, stop: threading.Event, out: list[float]) -> None:
    session = requests.Session()
    while not stop.is_set():
        began = time.perf_counter()
        # The raw (still compressed) bytes: decompressing 11 MB per poll would time the client.
        with session.get(url, headers=headers, timeout=60, stream=True) as resp:
            resp.raise_for_status()
            resp.raw.read()
        out.append(time.perf_counter() - began)


def keep_feeding(daemon: Daemon, servers: int, stop: threading.Event) -> None:
    session, step = requests.Session(), HISTORY_STEPS
    while not stop.is_set():
        ts = START + timedelta(minutes=5 * step)
        batch = [record(f"ppweb{s:04d}", ts, step) for s in range(servers)]
        session.post(daemon.url + "/feed/data", json={"records": batch}, headers=daemon.headers,
                     timeout=60).raise_for_status()  # fmt: skip
        step += 1
        stop.wait(1.0)


def cycles(daemon: Daemon) -> int:
    return int(requests.get(daemon.url + "/status", timeout=30).json()["prediction_cycles"])


def measure(daemon: Daemon, args: argparse.Namespace) -> dict:
    stop = threading.Event()
    pred: list[float] = []
    health: list[float] = []
    gz = {**daemon.headers, "Accept-Encoding": "gzip"}
    threads = [threading.Thread(target=keep_feeding, args=(daemon, args.servers, stop))]
    for i in range(args.clients):
        path, out = ("/predictions/current", pred) if i % 2 == 0 else ("/health", health)
        threads.append(threading.Thread(target=poll, args=(daemon.url + path, gz, stop, out)))
    before = cycles(daemon)
    for t in threads:
        t.start()
    time.sleep(args.seconds)
    stop.set()
    for t in threads:
        t.join()
    full = requests.get(daemon.url + "/predictions/current", headers=daemon.headers, timeout=60)
    zipped = requests.get(daemon.url + "/predictions/current", headers=gz, stream=True, timeout=60)
    return {
        "servers": args.servers, "clients": args.clients, "seconds": args.seconds,
        "cycles_during": cycles(daemon) - before,
        "predictions": {"n": len(pred), "p50_ms": round(percentile(pred, 0.5), 1),
                        "p99_ms": round(percentile(pred, 0.99), 1)},
        "health": {"n": len(health), "p50_ms": round(percentile(health, 0.5), 1),
                   "p99_ms": round(percentile(health, 0.99), 1)},
        "p99_ratio": round(percentile(pred, 0.99) / percentile(health, 0.99), 2),
        "p50_ratio": round(statistics.median(pred) / statistics.median(health), 2),
        "body_bytes": len(full.content), "gzip_bytes": len(zipped.raw.read()),
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="argus-reads-") as tmp:
        env = {"ARGUS_RATE_LIMITS_ENABLED": "false", "ARGUS_CYCLE_CHECK_SECONDS": "1",
               "ARGUS_THREADS": "16"}  # fmt: skip
        daemon = Daemon(Path(tmp) / "home", env).start()
        try:
            session = requests.Session()
            for batch in fleet(args.servers, HISTORY_STEPS, START):
                session.post(daemon.url + "/feed/data", json={"records": batch},
                             headers=daemon.headers, timeout=60).raise_for_status()  # fmt: skip
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                url = daemon.url + "/predictions/current"
                if requests.get(url, headers=daemon.headers, timeout=60).status_code == 200:
                    break
                time.sleep(1)
            print(json.dumps(measure(daemon, args)))
        finally:
            daemon.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
