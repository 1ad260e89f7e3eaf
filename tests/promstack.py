"""Real Prometheus and node_exporter processes on free loopback ports, for integration tests."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.thirdparty import free_port

PROMETHEUS = shutil.which("prometheus")
NODE_EXPORTER = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
# The collectors the mapping reads (faster to scrape than node_exporter's full default set).
COLLECTORS = ("cpu", "meminfo", "filesystem", "netdev", "loadavg", "stat", "diskstats")


def need_binaries() -> None:
    """Skip (with the reason) where the Debian packages could not be installed."""
    if PROMETHEUS is None or NODE_EXPORTER is None:
        pytest.skip(
            "needs the Debian packages prometheus and prometheus-node-exporter "
            "(.ci/run installs them)"
        )


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer:\n{log.read_text()[-3000:]}")


@dataclass
class PromStack:
    """node_exporter scraped every second by a Prometheus with its own storage dir."""

    root: Path
    exporter_port: int = field(default_factory=free_port)
    prometheus_port: int = field(default_factory=free_port)
    exporter: subprocess.Popen | None = None
    prometheus: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.prometheus_port}"

    @property
    def instance(self) -> str:
        """The server name Argus gives the host (the `instance` label)."""
        return f"127.0.0.1:{self.exporter_port}"

    def start(self) -> PromStack:
        self.root.mkdir(parents=True, exist_ok=True)
        log = self.root / "node_exporter.log"
        args = [f"--collector.{name}" for name in COLLECTORS]
        with open(log, "ab") as out:
            self.exporter = subprocess.Popen(
                [str(NODE_EXPORTER), f"--web.listen-address=127.0.0.1:{self.exporter_port}",
                 "--collector.disable-defaults", *args],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        _wait_http(f"http://{self.instance}/metrics", self.exporter, log)
        (self.root / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: node\n    static_configs:\n"
            f"      - targets: ['{self.instance}']\n"
        )
        return self.start_prometheus()

    def start_prometheus(self) -> PromStack:
        log = self.root / "prometheus.log"
        with open(log, "ab") as out:
            self.prometheus = subprocess.Popen(
                [str(PROMETHEUS), f"--config.file={self.root / 'prometheus.yml'}",
                 f"--storage.tsdb.path={self.root / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{self.prometheus_port}"],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        _wait_http(f"{self.url}/-/ready", self.prometheus, log)
        return self

    def stop_prometheus(self) -> None:
        if self.prometheus is not None and self.prometheus.poll() is None:
            self.prometheus.terminate()
            self.prometheus.wait(timeout=30)

    def stop(self) -> None:
        self.stop_prometheus()
        if self.exporter is not None and self.exporter.poll() is None:
            self.exporter.terminate()
            self.exporter.wait(timeout=30)

    def query_range(self, promql: str, start: float, end: float, step: int) -> list[dict]:
        resp = requests.post(
            f"{self.url}/api/v1/query_range",
            data={"query": promql, "start": start, "end": end, "step": step},
            timeout=30,
        )
        resp.raise_for_status()
        return resp.json()["data"]["result"]
