"""The prediction cycle and the GET routes that read its snapshot."""

from __future__ import annotations

import math
import re
import time
from datetime import timedelta

from jsonschema import Draft202012Validator

from argus.daemon.cycle import cycle_due, run_cycle
from argus.storage.predictions import read_alert_events
from tests.factories import BASE_TIME, LiveDaemon, make_record

SEED_PREDICTION_FIELDS = {"risk_score", "profile", "alert", "display_metrics", "forecast"}
SEED_SUMMARY_FIELDS = {
    "total_servers",
    "critical",
    "warning",
    "degraded",
    "healthy",
    "fleet_health",
    "prob_30m",
    "prob_8h",
}


def fleet_records(servers: int, steps: int, hot: str | None = None) -> list[dict]:
    """Daily-cycle CPU and steady memory; `hot` has memory at 99 % (critical right now)."""
    out = []
    for i in range(steps):
        ts = BASE_TIME + timedelta(minutes=5 * i)
        cpu = 30 + 15 * math.sin(2 * math.pi * i / 288)
        for s in range(servers):
            name = f"ppweb{s:03d}"
            mem = 99.0 if name == hot else 50.0 + s
            out.append(
                make_record(
                    name, ts, cpu_user_pct=cpu, cpu_idle_pct=100 - cpu - 6, mem_used_pct=mem
                )
            )
    return out


def feed(client, records: list[dict]) -> None:
    for start in range(0, len(records), 5000):
        resp = client.post("/feed/data", json={"records": records[start : start + 5000]})
        assert resp.status_code == 200, resp.get_json()


def test_predictions_are_503_until_warm(client, services) -> None:
    feed(client, fleet_records(1, 20))
    resp = client.get("/predictions/current")
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "60"
    body = resp.get_json()
    assert (
        body["error"] == "insufficient_data" and body["records"] == 20 and body["required"] == 100
    )
    assert run_cycle(services) is None
    assert client.get("/alerts/active").status_code == 503


def test_cycle_publishes_seed_shaped_predictions(client, services) -> None:
    feed(client, fleet_records(3, 2 * 288, hot="ppweb002"))
    assert cycle_due(services, time.monotonic())
    snapshot = run_cycle(services)
    assert snapshot is not None
    assert not cycle_due(services, services.last_cycle_at)

    body = client.get("/predictions/current").get_json()
    assert set(body["predictions"]) == {"ppweb000", "ppweb001", "ppweb002"}
    pred = body["predictions"]["ppweb000"]
    assert SEED_PREDICTION_FIELDS <= set(pred)
    assert set(pred["alert"]) == {"level", "score", "color", "emoji", "label"}
    assert set(pred["display_metrics"]) == {"cpu", "memory", "disk_io"}
    assert pred["display_metrics"]["disk_io"] == "n/a"
    forecast = pred["forecast"]
    assert len(forecast["cpu_pct"]) == len(forecast["timestamps"]) == 96
    assert forecast["timestamps"][0] > pred["last_sample"]  # the future, after the last sample
    assert all(
        lo <= mid <= hi
        for lo, mid, hi in zip(
            forecast["p10"]["cpu_pct"], forecast["cpu_pct"], forecast["p90"]["cpu_pct"], strict=True
        )
    )
    assert pred["model"] == "baseline"
    assert SEED_SUMMARY_FIELDS <= set(body["summary"])
    assert body["summary"]["total_servers"] == 3

    hot = body["predictions"]["ppweb002"]
    assert hot["alert"]["level"] == "critical" and hot["dominant_metric"] == "mem_pct"
    assert hot["message"].startswith("Memory at 99.0%")
    assert [a["server_name"] for a in body["alerts"]] == ["ppweb002"]

    alerts = client.get("/alerts/active").get_json()
    assert alerts["count"] == 1
    assert {"server_name", "level", "risk_score", "profile", "message", "time_to_issue"} <= set(
        alerts["alerts"][0]
    )
    events = read_alert_events(services.store)
    assert [(e.server_name, e.kind.value) for e in events] == [("ppweb002", "new")]


def test_a_connection_leak_is_scored_on_its_present_close_wait(client, services) -> None:
    """Sockets in CLOSE_WAIT are not forecast, but past their thresholds they raise the
    server's level, alert and message; no breach probability is made up for them."""
    records = fleet_records(3, 2 * 288)
    leaking = [r for r in records if r["server_name"] == "ppweb001"][-12:]
    for i, record in enumerate(leaking):  # the last hour: 300 -> 520 sockets
        record["back_close_wait"] = 300 + 20 * i
    feed(client, records)
    assert run_cycle(services) is not None

    body = client.get("/predictions/current").get_json()
    leak = body["predictions"]["ppweb001"]
    assert leak["alert"]["level"] == "critical" and leak["dominant_metric"] == "back_close_wait"
    assert leak["message"] == "Back-end sockets in CLOSE_WAIT at 520 sockets (critical threshold)"
    assert leak["time_to_issue_minutes"] == 0
    assert "back_close_wait" not in leak["breach_probability"]
    assert body["predictions"]["ppweb000"]["alert"]["level"] == "healthy"
    alerts = client.get("/alerts/active").get_json()["alerts"]
    assert [(a["server_name"], a["level"]) for a in alerts] == [("ppweb001", "critical")]
    exposition = client.get("/metrics").get_data(as_text=True)
    assert re.search(r'argus_risk_score\{[^}]*server="ppweb001"\} 85\.0', exposition)
    assert 'metric="back_close_wait"' not in exposition
    explained = client.get("/explain/ppweb001")  # nothing to explain in a forecast, no 500
    assert explained.status_code == 200
    assert explained.get_json()["prediction"]["dominant_metric"] == "back_close_wait"


def test_gets_never_run_the_model(client, services) -> None:
    feed(client, fleet_records(2, 300))
    run_cycle(services)
    runs = services.models.forecast_runs
    for _ in range(10):
        assert client.get("/predictions/current").status_code == 200
        assert client.get("/alerts/active").status_code == 200
        assert client.get("/metrics").status_code == 200
    assert services.models.forecast_runs == runs


def test_metrics_exposition_follows_prometheus_names(client, services) -> None:
    feed(client, fleet_records(2, 300, hot="ppweb001"))
    run_cycle(services)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'argus_risk_score{profile="Web API",server="ppweb001"}' in text
    assert 'argus_breach_probability{horizon="8h",metric="mem_pct",server="ppweb001"}' in text
    assert 'argus_alert_level{server="ppweb001"} 3.0' in text
    assert "argus_ingest_records_total 600.0" in text
    assert "argus_prediction_cycles_total 1.0" in text
    assert "argus_prediction_cycle_duration_seconds_bucket" in text


def test_prediction_responses_validate_against_openapi(client, services) -> None:
    spec = client.get("/openapi.json").get_json()
    feed(client, fleet_records(2, 300))
    run_cycle(services)
    for path in ("/predictions/current", "/alerts/active"):
        schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"
        ]
        validator = Draft202012Validator({**schema, "components": spec["components"]})
        errors = [e.message for e in validator.iter_errors(client.get(path).get_json())]
        assert not errors, errors


def test_daemon_scheduler_runs_cycles_by_itself(tmp_path) -> None:
    live = LiveDaemon(home=tmp_path / "home", extra_env={"ARGUS_CYCLE_CHECK_SECONDS": "0.5"})
    live.start()
    try:
        records = fleet_records(2, 120)
        assert live.post("/feed/data", json={"records": records}).status_code == 200
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and live.get("/predictions/current").status_code != 200:
            time.sleep(0.5)
        body = live.get("/predictions/current").json()
        assert body["timestamp"] == records[-1]["timestamp"] + "Z"
        status = live.get("/status").json()
        assert status["last_prediction"] is not None and status["prediction_cycles"] >= 1
        assert status["model"] == "baseline" and status["model_loaded"] is False
    finally:
        live.stop()
