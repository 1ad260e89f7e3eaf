"""GET /predictions/current latency with and without a training child running.

Trains a small TFT on a simulated fleet, starts a real daemon serving it, feeds the history,
then times GET /predictions/current while idle and while `POST /admin/trigger-training` runs
`argus train` in a child process. Usage: PYTHONPATH=. python bench/latency_during_training.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from argus.forecast.base import TrainOptions
from argus.forecast.training import train_model
from argus.simulate import simulate_fleet
from argus.simulate.dataset import block_frame, frame_records

KEY = "bench-key-0123456789abcdef"


def start(home: Path) -> tuple[subprocess.Popen, str]:
    env = {
        **os.environ,
        "ARGUS_API_KEY": KEY,
        "ARGUS_RATE_LIMITS_ENABLED": "false",
        "ARGUS_LOG_LEVEL": "WARNING",
        "ARGUS_CYCLE_CHECK_SECONDS": "1",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from argus.cli.main import main; main()",
            "serve",
            "--port",
            "0",
            "--home",
            str(home),
        ],
        env=env,
    )
    runtime = home / "argus.runtime.json"
    while not runtime.exists():
        time.sleep(0.2)
    return proc, json.loads(runtime.read_text())["url"]


def timings(session: requests.Session, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        began = time.perf_counter()
        session.get(url + "/predictions/current", timeout=60).raise_for_status()
        out.append(time.perf_counter() - began)
    return out


def summary(name: str, values: list[float]) -> str:
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(0.99 * len(values)))]
    return (
        f"| {name} | {len(values)} | {1000 * statistics.median(values):.1f} | "
        f"{1000 * p99:.1f} | {1000 * values[-1]:.1f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--servers", type=int, default=45)
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    sim = simulate_fleet(servers=args.servers, days=3, seed=2)
    frame = block_frame(sim.block)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        train_model(
            frame,
            models_dir=home / "models",
            name="bench",
            options=TrainOptions(epochs=2, max_minutes=1.0),
        )
        proc, url = start(home)
        try:
            session = requests.Session()
            session.headers["X-API-Key"] = KEY
            records = frame_records(frame)
            for i in range(0, len(records), 5000):
                session.post(
                    url + "/feed/data", json={"records": records[i : i + 5000]}, timeout=120
                ).raise_for_status()
            while session.get(url + "/predictions/current").status_code != 200:
                time.sleep(0.5)
            idle = timings(session, url, args.requests)
            session.post(url + "/admin/trigger-training", params={"epochs": 50}).raise_for_status()
            while not (session.get(url + "/admin/training-status").json().get("epoch") or 0):
                time.sleep(0.5)
            busy = timings(session, url, args.requests)
            assert session.get(url + "/admin/training-status").json()["live"]
            session.post(url + "/admin/cancel-training")
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    print(f"{args.servers} servers, 3 days of 5-minute history, 2 CPU cores")
    print("| daemon | requests | median ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    print(summary("idle", idle))
    print(summary("training child running", busy))


if __name__ == "__main__":
    main()
