"""Real third-party servers on loopback for integration tests: Debian's Alertmanager and
Prometheus as subprocesses, and a webhook receiver in a thread. Each picks a free port."""

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


def free_port() -> int:
    """A port free right now (bind 0, release): for servers that cannot report their own."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require(binary: str) -> str:
    """The binary's path, or skip: the Debian package is missing (CI installs it)."""
    path = shutil.which(binary)
    if path is None:
        pytest.skip(f"{binary} is not installed (Debian package {binary.split('-')[0]}...)")
    return path


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become ready")


@dataclass
class Alertmanager:
    """`prometheus-alertmanager` with a null receiver; stop/start keep its port."""

    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Alertmanager:
        binary = require(ALERTMANAGER)
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "alertmanager.yml"
        config.write_text('route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n')
        with open(self.workdir / "alertmanager.log", "ab") as log:
            self.proc = subprocess.Popen(
                [binary, f"--config.file={config}", f"--storage.path={self.workdir / 'data'}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address="],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_http(self.url + "/-/ready")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

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
class Prometheus:
    """Debian's `prometheus` with the given scrape jobs (and rule files), scraping every second."""

    workdir: Path
    scrape_configs: list[dict[str, Any]]
    rule_files: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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
        with open(self.workdir / "prometheus.log", "ab") as log:
            self.proc = subprocess.Popen(
                [binary, f"--config.file={path}", f"--storage.tsdb.path={self.workdir / 'data'}",
                 f"--web.listen-address=127.0.0.1:{self.port}"],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_http(self.url + "/-/ready")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def query(self, expr: str) -> dict[str, Any]:
        resp = requests.get(self.url + "/api/v1/query", params={"query": expr}, timeout=5)
        return resp.json()
