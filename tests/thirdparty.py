"""Real third-party servers on loopback for integration tests: Debian's Prometheus,
node_exporter and Alertmanager as subprocesses, and a webhook receiver in a thread. Each picks
a free port; this module is the one place that starts them."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

ALERTMANAGER = "prometheus-alertmanager"
# Binary -> the Debian package that installs it (.ci/run installs them in CI).
PACKAGES = {
    "prometheus": "prometheus",
    "promtool": "prometheus",
    ALERTMANAGER: "prometheus-alertmanager",
    "prometheus-node-exporter": "prometheus-node-exporter",
    "node_exporter": "prometheus-node-exporter",
    "systemd-analyze": "systemd",
}
# The collectors the Prometheus mapping reads (faster to scrape than node_exporter's defaults).
NODE_COLLECTORS = ("cpu", "meminfo", "filesystem", "netdev", "loadavg", "stat", "diskstats")


def free_port() -> int:
    """A port free right now (bind 0, release): for servers that cannot report their own."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require(*binaries: str) -> str:
    """The path of the first of `binaries` installed, or skip: its Debian package is missing."""
    for binary in binaries:
        path = shutil.which(binary)
        if path is not None:
            return path
    package = PACKAGES.get(binaries[0], binaries[0])
    pytest.skip(f"{' or '.join(binaries)} is not installed (Debian package {package})")


def wait_http(
    url: str, proc: subprocess.Popen | None = None, log: Path | None = None, timeout: float = 30.0
) -> None:
    """Wait for `url` to answer 200; fail early, with the log's tail, if `proc` exits."""

    def tail() -> str:
        return log.read_text()[-3000:] if log is not None and log.exists() else ""

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited:\n{tail()}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become ready:\n{tail()}")


def spawn(args: list[str], log: Path) -> subprocess.Popen:
    """Start a server with its output appended to `log`."""
    with open(log, "ab") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)


def terminate(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=30)


class _Server:
    """What the subprocess servers share: a loopback port, a process, a start that returns
    once the server answers, a stop that keeps the port (and storage) for a restart."""

    workdir: Path
    port: int
    proc: subprocess.Popen | None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _launch(self, args: list[str], log_name: str, ready_path: str) -> None:
        log = self.workdir / log_name
        self.proc = spawn(args, log)
        wait_http(self.url + ready_path, self.proc, log)

    def stop(self) -> None:
        terminate(self.proc)


@dataclass
class Alertmanager(_Server):
    """`prometheus-alertmanager` with a null receiver; stop/start keep its port."""

    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    def start(self) -> Alertmanager:
        binary = require(ALERTMANAGER)
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "alertmanager.yml"
        config.write_text('route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n')
        self._launch(
            [binary, f"--config.file={config}", f"--storage.path={self.workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address="],
            "alertmanager.log",
            "/-/ready",
        )  # fmt: skip
        return self

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts Alertmanager holds as active (resolved ones are left out)."""
        return requests.get(self.url + "/api/v2/alerts", timeout=5).json()


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """An HTTP endpoint recording every POST; `status` is what it answers (503: 'down')."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.status == 200:
                    receiver.deliveries.append(Delivery(dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_for(condition, timeout: float = 30.0, step: float = 0.2) -> Any:  # noqa: ANN001
    """Poll until `condition()` is truthy; return its value or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout}s")


@dataclass
class Prometheus(_Server):
    """Debian's `prometheus` with the given scrape jobs (and rule files), scraping every second.
    stop/start keep its port and its storage: a restart is an outage, not a new server."""

    workdir: Path
    scrape_configs: list[dict[str, Any]]
    rule_files: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    def start(self) -> Prometheus:
        binary = require("prometheus")
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": self.rule_files,
            "scrape_configs": self.scrape_configs,
        }
        path = self.workdir / "prometheus.yml"
        path.write_text(json.dumps(config))  # JSON is YAML
        self._launch(
            [binary, f"--config.file={path}", f"--storage.tsdb.path={self.workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            "prometheus.log",
            "/-/ready",
        )  # fmt: skip
        return self

    def query(self, expr: str) -> dict[str, Any]:
        resp = requests.get(self.url + "/api/v1/query", params={"query": expr}, timeout=5)
        return resp.json()

    def query_range(self, promql: str, start: float, end: float, step: int) -> list[dict]:
        resp = requests.post(
            f"{self.url}/api/v1/query_range",
            data={"query": promql, "start": start, "end": end, "step": step},
            timeout=30,
        )
        resp.raise_for_status()
        return resp.json()["data"]["result"]


@dataclass
class NodeExporter(_Server):
    """Debian's node_exporter with the collectors the Prometheus mapping reads."""

    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def instance(self) -> str:
        """host:port, as Prometheus labels it (the server name Argus gives the host)."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> NodeExporter:
        binary = require("prometheus-node-exporter", "node_exporter")
        self.workdir.mkdir(parents=True, exist_ok=True)
        collectors = [f"--collector.{name}" for name in NODE_COLLECTORS]
        self._launch(
            [binary, f"--web.listen-address={self.instance}", "--collector.disable-defaults",
             *collectors],
            "node_exporter.log",
            "/metrics",
        )  # fmt: skip
        return self


@dataclass
class PromStack:
    """A node_exporter scraped every second (job "node") by a Prometheus of its own."""

    root: Path
    exporter: NodeExporter = field(init=False)
    prometheus: Prometheus = field(init=False)

    def __post_init__(self) -> None:
        self.exporter = NodeExporter(self.root / "node_exporter")
        job = {"job_name": "node", "static_configs": [{"targets": [self.exporter.instance]}]}
        self.prometheus = Prometheus(self.root / "prometheus", [job])

    def start(self) -> PromStack:
        # Both binaries are checked first: a skip never leaves the exporter running.
        require("prometheus")
        require("prometheus-node-exporter", "node_exporter")
        self.exporter.start()
        try:
            self.prometheus.start()
        except BaseException:
            self.exporter.stop()
            raise
        return self

    def stop(self) -> None:
        self.prometheus.stop()
        self.exporter.stop()
