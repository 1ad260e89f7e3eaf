"""Records per second through POST /feed/data at several batch sizes.

Starts a real daemon (rate limits off) in a temporary data dir, sends pre-serialised batches over
one keep-alive connection, and prints a Markdown table. Usage: python bench/ingest.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import requests

KEY = "bench-key-0123456789abcdef"
START = datetime(2025, 1, 1)


def record(server: int, step: int) -> dict:
    return {
        "timestamp": (START + timedelta(minutes=5 * step)).isoformat(),
        "server_name": f"ppweb{server:04d}",
        "status": "healthy",
        "cpu_user_pct": 20.0 + step % 7, "cpu_sys_pct": 5.0, "cpu_iowait_pct": 1.0,
        "cpu_idle_pct": 74.0 - step % 7, "java_cpu_pct": 3.0, "mem_used_pct": 55.0,
        "swap_used_pct": 0.5, "disk_usage_pct": 40.0, "net_in_mb_s": 1.5, "net_out_mb_s": 0.7,
        "back_close_wait": 2, "front_close_wait": 1, "load_average": 1.2, "uptime_days": 12,
    }  # fmt: skip


def bodies(batch: int, count: int, first_step: int) -> list[bytes]:
    """`count` batches of `batch` new records each (100 servers, advancing steps)."""
    out, n = [], 0
    for _ in range(count):
        recs = []
        for _ in range(batch):
            recs.append(record(n % 100, first_step + n // 100))
            n += 1
        out.append(json.dumps({"records": recs}).encode())
    return out


def start_daemon(home: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "ARGUS_API_KEY": KEY, "ARGUS_RATE_LIMITS_ENABLED": "false",
           "ARGUS_LOG_LEVEL": "WARNING", "ARGUS_MAX_BODY_MB": "64"}  # fmt: skip
    cmd = [sys.executable, "-c", "from argus.cli.main import main; main()",
           "serve", "--port", "0", "--home", str(home)]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env)
    runtime = home / "argus.runtime.json"
    for _ in range(600):
        if runtime.exists():
            url = json.loads(runtime.read_text())["url"]
            try:
                requests.get(url + "/health", timeout=1)
                return proc, url
            except requests.ConnectionError:
                pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("daemon did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=50_000, help="records per batch size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_daemon(Path(tmp))
        session = requests.Session()
        session.headers.update({"X-API-Key": KEY, "Content-Type": "application/json"})
        print(f"# ingest benchmark, {platform.node()}, {os.cpu_count()} CPUs, {datetime.now():%F}")
        print("| batch size | requests | records | seconds | records/s |")
        print("|---:|---:|---:|---:|---:|")
        step = 0
        try:
            for batch in (1, 100, 1_000, 10_000):
                count = max(1, min(args.records, 2_000 * batch) // batch)
                payloads = bodies(batch, count, step)
                step += batch * count // 100 + 1
                began = time.perf_counter()
                for body in payloads:
                    resp = session.post(url + "/feed/data", data=body, timeout=120)
                    resp.raise_for_status()
                    assert resp.json()["accepted"] == batch, resp.text
                took = time.perf_counter() - began
                total = batch * count
                print(f"| {batch:,} | {count:,} | {total:,} | {took:.2f} | {total / took:,.0f} |")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
