"""What a new operator meets first: HTTP details of the contract, drift at start-up, the demo's
quiet libraries. (The CLI's side of the first hour is in test_cli.py.)"""

from __future__ import annotations

import json
import subprocess

import requests

from argus.daemon.drift_job import drift_job
from argus.daemon.services import Services
from tests.factories import LiveDaemon, argus_command, make_batch


def test_http_details_on_a_live_daemon(daemon: LiveDaemon) -> None:
    # 405 names the methods the route takes.
    resp = requests.delete(f"{daemon.url}/feed/data", headers=daemon.headers, timeout=10)
    assert resp.status_code == 405 and "POST" in resp.headers["Allow"].split(", ")
    # Retry-After only where it means "come back later": not on a 200 of a limited route.
    ok = daemon.post("/feed/data", json={"records": make_batch(servers=1, steps=3)})
    assert ok.status_code == 200 and "X-RateLimit-Limit" in ok.headers
    assert "Retry-After" not in ok.headers
    early = daemon.get("/predictions/current")  # warming up
    assert early.status_code == 503 and int(early.headers["Retry-After"]) > 0


def test_a_busy_port_names_the_address_and_how_to_choose_another(daemon: LiveDaemon) -> None:
    port = daemon.url.rsplit(":", 1)[1]
    proc = subprocess.run(
        argus_command("serve", "--port", port, "--home", str(daemon.home) + "-other"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1
    assert f"127.0.0.1:{port}" in proc.stderr and "already in use" in proc.stderr
    assert "--port" in proc.stderr and "ARGUS_PORT" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_empty_batch_is_named_as_such(client) -> None:
    resp = client.post("/feed/data", json={"records": []})
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["detail"].startswith("the batch is empty")
    assert "invalid record(s)" not in body["detail"]


def test_openapi_declares_every_export_format(client) -> None:
    spec = client.get("/openapi.json").get_json()
    content = spec["paths"]["/historical/export/{table}"]["get"]["responses"]["200"]["content"]
    assert set(content) == {"text/csv", "application/vnd.apache.parquet", "application/x-ndjson"}


def test_status_names_wall_clock_and_data_time(client) -> None:
    status = client.get("/status").get_json()
    assert status["model"] == "baseline"
    spec = client.get("/openapi.json").get_json()
    props = spec["components"]["schemas"]["StatusBody"]["properties"]
    assert "wall-clock" in props["last_prediction"]["description"]
    assert "data time" in props["last_prediction_data_time"]["description"]
    assert "baseline" in props["model"]["description"]


def test_drift_is_checked_as_soon_as_the_history_allows_and_next_check_is_known(
    client, services: Services
) -> None:
    before = client.get("/drift/status").get_json()
    assert before["checked_at"] is None and before["next_check"] is not None
    drift_job(services)  # the first run, at start-up: no history yet
    assert services.drift is None and services.drift_due is not None
    services.drift_due = None  # as if the minute had passed
    client.post("/feed/data", json={"records": make_batch(servers=3, steps=40)})
    drift_job(services)
    after = client.get("/drift/status").get_json()
    assert after["checked_at"] is not None
    assert after["next_check"] > after["checked_at"]
    drift_job(services)  # not due again for an hour: the check is not repeated
    assert client.get("/drift/status").get_json()["checked_at"] == after["checked_at"]


def test_openapi_is_json(client) -> None:
    assert json.loads(client.get("/openapi.json").data)["openapi"].startswith("3.")
