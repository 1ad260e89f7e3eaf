"""Builders for test data and a real daemon process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests

BASE_TIME = datetime(2025, 1, 15, 0, 0)
TEST_KEY = "test-key-0123456789abcdef"


def make_record(server: str = "ppdb001", ts: datetime | str = BASE_TIME, **overrides: Any) -> dict:
    """A valid feed record; override any field."""
    record: dict[str, Any] = {
        "timestamp": ts.isoformat() if isinstance(ts, datetime) else ts,
        "server_name": server,
        "status": "healthy",
        "cpu_user_pct": 20.0,
        "cpu_sys_pct": 5.0,
        "cpu_iowait_pct": 1.0,
        "cpu_idle_pct": 74.0,
        "java_cpu_pct": 3.0,
        "mem_used_pct": 55.0,
        "swap_used_pct": 0.5,
        "disk_usage_pct": 40.0,
        "net_in_mb_s": 1.5,
        "net_out_mb_s": 0.7,
        "back_close_wait": 2,
        "front_close_wait": 1,
        "load_average": 1.2,
        "uptime_days": 12,
    }
    record.update(overrides)
    return record


def make_batch(servers: int, steps: int, start: datetime = BASE_TIME) -> list[dict]:
    """`steps` 5-minute samples of `servers` servers, varied so averages are checkable."""
    return [
        make_record(f"ppweb{s:03d}", start + timedelta(minutes=5 * i), mem_used_pct=40.0 + i % 20)
        for i in range(steps)
        for s in range(servers)
    ]


def argus_command(*args: str) -> list[str]:
    """Run the CLI with this interpreter (no reliance on the console script being on PATH)."""
    return [sys.executable, "-c", "from argus.cli.main import main; main()", *args]


@dataclass
class LiveDaemon:
    """A real `argus serve` subprocess on a free port with its own data dir."""

    home: Path
    key: str = TEST_KEY
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = 0  # 0: a free one; a fixed port lets a restarted daemon keep its URL
    proc: subprocess.Popen | None = None
    url: str = ""
    log: Path | None = None

    def start(self, timeout: float = 60.0) -> LiveDaemon:
        runtime = self.home / "argus.runtime.json"
        runtime.unlink(missing_ok=True)
        env = {**os.environ, "ARGUS_API_KEY": self.key, **self.extra_env}
        self.log = self.home.parent / f"{self.home.name}-daemon.log"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                argus_command("serve", "--port", str(self.port), "--home", str(self.home)),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            return self._wait_ready(runtime, timeout)
        except BaseException:
            self.proc.kill()  # never leave a half-started daemon behind
            self.proc.wait()
            raise

    def _wait_ready(self, runtime: Path, timeout: float) -> LiveDaemon:
        assert self.proc is not None and self.log is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited early:\n{self.log.read_text()}")
            if runtime.exists():
                self.url = json.loads(runtime.read_text())["url"]
                try:
                    if requests.get(self.url + "/health", timeout=2).status_code == 200:
                        return self
                except requests.ConnectionError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"daemon did not start:\n{self.log.read_text()}")

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}

    def get(self, path: str, **kw: Any) -> requests.Response:
        return requests.get(self.url + path, headers=self.headers, timeout=30, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return requests.post(self.url + path, headers=self.headers, timeout=60, **kw)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)
