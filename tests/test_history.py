"""Historical reports and exports over real prediction cycles and alert events."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest

from argus.alerts import AlertEvent, AlertEventKind
from argus.daemon.cycle import run_cycle
from argus.history import AlertOutcome, alert_outcome
from argus.storage.history import alert_outcomes
from argus.storage.metrics import insert_samples
from argus.storage.predictions import CycleRecord, save_cycle
from argus.thresholds import Level
from tests.factories import BASE_TIME, make_record


def feed_steps(client, first: int, last: int, hot: range) -> None:
    """Two servers; ppweb001's memory is at 99 % during the steps in `hot`."""
    records = [
        make_record(
            name,
            BASE_TIME + timedelta(minutes=5 * i),
            mem_used_pct=99.0 if name == "ppweb001" and i in hot else 50.0,
        )
        for i in range(first, last)
        for name in ("ppweb000", "ppweb001")
    ]
    assert client.post("/feed/data", json={"records": records}).status_code == 200


@pytest.fixture
def history(client, services):
    """60 warm-up steps, then 12 cycles: ppweb001 hot for steps 62-64, calm afterwards."""
    feed_steps(client, 0, 60, hot=range(0))
    for step in range(60, 72):
        feed_steps(client, step, step + 1, hot=range(62, 65))
        run_cycle(services)
    return client


def test_summary_counts_alerts_and_resolution(history) -> None:
    body = history.get("/historical/summary?time_range=1d").get_json()
    assert body["success"] is True and body["time_range"] == "1d"
    assert body["total_alerts"] == 1
    assert body["alerts_by_level"]["critical"] == 1
    assert body["avg_resolution_time_minutes"] > 0
    # raised on memory already at 99 %: a report of a breach, not a forecast of one
    assert body["incidents_prevented"] == 0 and body["alerts_without_breach"] == 0
    assert 0 < body["fleet_health_avg"] <= 100


def test_alert_history_filters_by_server(history) -> None:
    body = history.get("/historical/alerts?time_range=8h&server_name=ppweb001").get_json()
    assert [e["event"] for e in body["events"]] == ["new", "resolved"]
    resolved = body["events"][-1]
    opened = datetime.fromisoformat(resolved["opened_at"])
    assert (
        resolved["duration_minutes"]
        == (datetime.fromisoformat(resolved["timestamp"]) - opened).total_seconds() / 60
    )
    other = history.get("/historical/alerts?time_range=8h&server_name=ppweb000").get_json()
    assert other["count"] == 0


def test_server_history(history) -> None:
    body = history.get("/historical/server/ppweb001?time_range=1d").get_json()
    assert body["alert_count"] == 1
    assert len(body["history"]) == 12
    assert body["max_risk_score"] >= 80
    assert body["time_in_critical_pct"] > 0
    assert body["risk_trend"] in {"rising", "falling", "stable"}
    assert history.get("/historical/server/nosuch").status_code == 404


def test_environment_snapshots_are_one_per_cycle(history) -> None:
    body = history.get("/historical/environment?time_range=1d").get_json()
    assert body["count"] == 12
    first = body["snapshots"][0]
    assert first["total_servers"] == 2 and first["model"] == "baseline"
    assert first["critical"] + first["warning"] + first["degraded"] + first["healthy"] == 2


@pytest.mark.parametrize("table", ["alerts", "environment", "metrics", "predictions"])
def test_csv_exports_read_back(history, table) -> None:
    resp = history.get(f"/historical/export/{table}?time_range=1d")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert rows
    if table == "environment":
        api = history.get("/historical/environment?time_range=1d").get_json()["snapshots"]
        assert [float(r["fleet_health"]) for r in rows] == [s["fleet_health"] for s in api]
    if table == "alerts":
        api = history.get("/historical/alerts?time_range=1d").get_json()["events"]
        assert [(r["server_name"], r["kind"]) for r in rows] == [
            (e["server_name"], e["event"]) for e in api
        ]


@pytest.mark.parametrize(
    "url",
    [
        "/historical/summary?time_range=2d",
        "/historical/alerts?time_range=",
        "/historical/export/alerts?time_range=1y",
    ],
)
def test_bad_time_range_is_400(client, url) -> None:
    resp = client.get(url)
    assert resp.status_code == 400
    assert "time_range" in resp.get_json()["detail"]


def test_unknown_export_is_404(client) -> None:
    assert client.get("/historical/export/secrets").status_code == 404


def _alert(kind: AlertEventKind, at: datetime, level: Level) -> AlertEvent:
    return AlertEvent(
        "ppdb001", kind, at, level, Level.HEALTHY, 70.0, "mem_pct", "m", BASE_TIME, None
    )


def _samples(services, memory: dict[int, float]) -> None:
    """ppdb001 (Database: memory critical at 98 %) at BASE_TIME + the given minutes."""
    rows = [
        dict(
            make_record("ppdb001", BASE_TIME + timedelta(minutes=m), mem_used_pct=v),
            timestamp=BASE_TIME + timedelta(minutes=m),
            profile="Database",
        )
        for m, v in memory.items()
    ]
    insert_samples(services.store, rows, datetime(2025, 1, 1))


def test_prevented_counts_only_breaches_that_followed_the_alert(services) -> None:
    """An alert whose metric never reached critical (a false alarm, or one acted on) is not a
    prevented incident; one raised on a breach already there is not a forecast."""
    events = [
        _alert(AlertEventKind.NEW, BASE_TIME, Level.WARNING),
        _alert(AlertEventKind.RESOLVED, BASE_TIME + timedelta(minutes=15), Level.HEALTHY),
    ]
    save_cycle(
        services.store, CycleRecord(BASE_TIME, BASE_TIME, 1.0, 90.0, 0.1, 0.2, {}, "x", [], events)
    )
    end = BASE_TIME + timedelta(hours=9)
    _samples(services, {5 * i: 90.0 + i % 5 for i in range(12 * 9)})  # 90-94 %: never 98
    assert alert_outcomes(services.store, BASE_TIME, end)[AlertOutcome.NO_BREACH] == 1
    _samples(services, {123: 99.0})  # memory ran out two hours after the warning
    outcomes = alert_outcomes(services.store, BASE_TIME, end)
    assert outcomes[AlertOutcome.FOREWARNED] == 1 and outcomes[AlertOutcome.NO_BREACH] == 0
    _samples(services, {2: 98.5})  # ... but it was already critical when the alert came
    assert alert_outcomes(services.store, BASE_TIME, end)[AlertOutcome.PRESENT] == 1


def test_alert_outcome_waits_for_the_horizon() -> None:
    t = BASE_TIME
    assert alert_outcome(t, None, t + timedelta(hours=7)) is AlertOutcome.PENDING
    assert alert_outcome(t, None, t + timedelta(hours=8)) is AlertOutcome.NO_BREACH
    assert alert_outcome(t, t + timedelta(minutes=4), t) is AlertOutcome.PRESENT
    assert alert_outcome(t, t + timedelta(minutes=5), t) is AlertOutcome.FOREWARNED
