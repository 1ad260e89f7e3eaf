"""A real `argus serve` for the hardening benchmarks (fuzz, durability, read scale)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests

KEY = "bench-key-0123456789abcdef"


@dataclass
class Daemon:
    home: Path
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    url: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": KEY}

    def start(self, timeout: float = 90.0) -> Daemon:
        runtime = self.home / "argus.runtime.json"
        runtime.unlink(missing_ok=True)
        env = {**os.environ, "ARGUS_API_KEY": KEY, "ARGUS_LOG_LEVEL": "WARNING", **self.env}
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.home.parent / f"{self.home.name}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from argus.cli.main import main; main()", "serve",
             "--port", "0", "--home", str(self.home)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}")
            if runtime.exists():
                self.url = json.loads(runtime.read_text())["url"]
                try:
                    if requests.get(self.url + "/health", timeout=2).ok:
                        return self
                except requests.ConnectionError:
                    pass
            time.sleep(0.1)
        raise RuntimeError("daemon did not start")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=60)


def record(server: str, ts: datetime, i: int) -> dict[str, Any]:
    cpu = 20 + (i * 7 + hash(server) % 13) % 50
    return {
        "timestamp": ts.isoformat(), "server_name": server, "status": "healthy",
        "cpu_user_pct": cpu * 0.7, "cpu_sys_pct": cpu * 0.2, "cpu_iowait_pct": cpu * 0.1,
        "cpu_idle_pct": 100.0 - cpu, "java_cpu_pct": 3.0, "mem_used_pct": 40.0 + i % 30,
        "swap_used_pct": 1.0, "disk_usage_pct": 50.0, "net_in_mb_s": 1.0, "net_out_mb_s": 0.5,
        "back_close_wait": 1, "front_close_wait": 0, "load_average": 1.0, "uptime_days": 10,
    }  # fmt: skip


def fleet(servers: int, steps: int, start: datetime) -> list[list[dict[str, Any]]]:
    """One batch per 5-minute step, every server in it."""
    return [
        [record(f"ppweb{s:04d}", start + timedelta(minutes=5 * i), i) for s in range(servers)]
        for i in range(steps)
    ]
