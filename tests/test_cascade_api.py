"""GET /cascade/status and /cascade/health over a real app and DuckDB file, fed a real incident."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from argus.daemon.app import create_app
from argus.daemon.cycle import run_cycle
from argus.daemon.models import ServingModel
from argus.daemon.service import build_services
from argus.forecast.serving import ServingForecaster
from argus.simulate import Simulator
from argus.simulate.dataset import block_frame, frame_records
from argus.storage.cascades import count_cascade_events, read_cascade_events
from tests.factories import TEST_KEY

DAY = 288
SEED_CURRENT = {
    "cascade_detected", "timestamp", "total_servers", "servers_with_anomalies", "anomaly_rate",
    "correlation_score", "cascades",
}  # fmt: skip
SEED_EVENT = {"timestamp", "cascades", "correlation_score", "affected_servers"}
SEED_HEALTH = {
    "health_score", "status", "correlation_score", "anomaly_rate", "anomalous_servers",
    "total_servers", "cascade_risk",
}  # fmt: skip


def feed(client, records: list[dict]) -> None:
    for start in range(0, len(records), 2000):
        resp = client.post("/feed/data", json={"records": records[start : start + 2000]})
        assert resp.status_code == 200, resp.get_json()


def records(block) -> list[dict]:
    frame = block_frame(block)
    frame["timestamp"] = frame["timestamp"].str.replace("Z", "", regex=False)
    return frame_records(frame)


@pytest.fixture
def incident_fleet(client, services):
    """Feed three calm days (one cycle), then a database incident spreading (another cycle)."""
    sim = Simulator.create(servers=30, seed=1)
    feed(client, records(sim.advance(3 * DAY)))
    assert run_cycle(services) is not None
    calm = services.cascade
    origin = next(
        n for n, p in zip(sim.fleet.names, sim.fleet.profiles, strict=True) if p == "Database"
    )
    sim.inject_cascade(origin, "iowait_storm", 60)
    feed(client, records(sim.advance(22)))
    assert run_cycle(services) is not None
    return calm, origin, sim


def test_cascade_endpoints_are_503_until_the_first_detection(client) -> None:
    for path in ("/cascade/status", "/cascade/health"):
        resp = client.get(path)
        assert resp.status_code == 503 and resp.headers["Retry-After"] == "60"
        assert resp.get_json()["error"] == "insufficient_data"


def test_database_cascade_is_detected_stored_and_served(client, services, incident_fleet) -> None:
    calm, origin, _ = incident_fleet
    assert calm is not None and not calm.result.cascade_detected

    status = client.get("/cascade/status").get_json()
    current = status["current_status"]
    assert SEED_CURRENT <= set(current)
    assert current["cascade_detected"] and current["origin"] == origin
    assert current["total_servers"] == 30 and current["servers_with_anomalies"] >= 3
    assert {"metric", "affected_servers", "severity"} <= set(current["cascades"][0])
    assert set(status["tracking"]) >= {"servers", "metrics_tracked", "window_size"}
    assert status["tracking"]["metrics_tracked"][:5] == [
        "cpu_user_pct", "mem_used_pct", "cpu_iowait_pct", "load_average", "swap_used_pct"
    ]  # fmt: skip
    assert set(status["thresholds"]) >= {"correlation", "cascade_servers", "anomaly_z_score"}
    assert status["thresholds"]["correlation"] == 0.7
    assert status["thresholds"]["cascade_servers"] == 3
    assert status["event_count"] == 1 == count_cascade_events(services.store)
    (event,) = status["recent_events"]
    assert SEED_EVENT <= set(event) and event["origin"] == origin
    assert event["affected_servers"][0] == origin
    assert read_cascade_events(services.store)[0].origin == origin
    assert event["ongoing"] and event["last_seen"] == current["timestamp"]

    health = client.get("/cascade/health").get_json()
    assert SEED_HEALTH <= set(health)
    assert health["status"] in {"degraded", "warning", "critical"}
    assert health["cascade_risk"] == "high" and health["total_servers"] == 30


def test_cascade_responses_validate_against_openapi(client, incident_fleet) -> None:
    spec = client.get("/openapi.json").get_json()
    for path in ("/cascade/status", "/cascade/health"):
        op = spec["paths"][path]["get"]
        assert {"200", "503", "401", "429"} <= set(op["responses"])
        schema = op["responses"]["200"]["content"]["application/json"]["schema"]
        validator = Draft202012Validator({**schema, "components": spec["components"]})
        errors = [e.message for e in validator.iter_errors(client.get(path).get_json())]
        assert not errors, errors


def test_gets_change_nothing(client, services, incident_fleet) -> None:
    view, events = services.cascade, count_cascade_events(services.store)
    first = client.get("/cascade/status").data
    for _ in range(5):
        assert client.get("/cascade/status").data == first
        assert client.get("/cascade/health").status_code == 200
    assert services.cascade is view and count_cascade_events(services.store) == events


def test_a_cascade_failure_never_breaks_the_prediction_cycle(client, services, monkeypatch) -> None:
    def broken(*_args, **_kwargs):
        raise RuntimeError("detector exploded")

    monkeypatch.setattr("argus.daemon.cascade_job.detect", broken)
    sim = Simulator.create(servers=5, seed=2)
    feed(client, records(sim.advance(40)))
    assert run_cycle(services) is not None and services.snapshot is not None
    assert services.cascade is None
    assert client.get("/cascade/health").status_code == 503
    assert client.get("/predictions/current").status_code == 200


def test_an_open_episode_goes_on_after_a_restart(settings, services, incident_fleet) -> None:
    _, origin, sim = incident_fleet
    (before,) = read_cascade_events(services.store)
    services.store.close()
    restarted = build_services(settings, TEST_KEY, ServingModel(ServingForecaster(None), None))
    try:
        client = create_app(restarted).test_client()
        client.environ_base["HTTP_X_API_KEY"] = TEST_KEY
        feed(client, records(sim.advance(1)))
        assert run_cycle(restarted) is not None and restarted.cascade is not None
        assert restarted.cascade.result.cascade_detected
        (after,) = read_cascade_events(restarted.store)  # the same episode, not a second one
        assert after.event_time == before.event_time and after.origin == origin
        assert after.last_seen == restarted.cascade.result.timestamp > before.last_seen
    finally:
        restarted.store.close()
