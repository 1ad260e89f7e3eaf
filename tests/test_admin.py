"""Drift and admin routes: checks from real data, model path safety, training control."""

from __future__ import annotations

from datetime import timedelta

import pytest

from argus.daemon.cycle import run_cycle
from argus.daemon.drift_job import run_drift_check
from tests.factories import BASE_TIME, make_record


def feed_and_cycle(client, services, steps: int) -> None:
    """Two servers; one prediction cycle per step after a 60-step warm-up."""

    def batch(first: int, last: int) -> list[dict]:
        return [
            make_record(n, BASE_TIME + timedelta(minutes=5 * i), mem_used_pct=50.0 + i % 7)
            for i in range(first, last)
            for n in ("ppweb000", "ppweb001")
        ]

    client.post("/feed/data", json={"records": batch(0, 60)})
    for step in range(60, 60 + steps):
        client.post("/feed/data", json={"records": batch(step, step + 1)})
        run_cycle(services)


def test_drift_routes_before_the_first_check(client) -> None:
    status = client.get("/drift/status").get_json()
    assert status["drift_detected"] is False and status["checked_at"] is None
    assert status["metrics"] == {"per": None, "dss": None, "fds": None, "anomaly_rate": None}
    assert status["thresholds"] == {"per": 0.1, "dss": 0.2, "fds": 0.15, "anomaly_rate": 0.05}
    report = client.get("/drift/report").get_json()
    assert report["overall_health"] == "unknown" and report["needs_retraining"] is False
    assert report["auto_retrain"] == {
        "enabled": False,
        "last_triggered": None,
        "total_drift_trainings": 0,
    }


def test_drift_check_measures_realised_error_of_stored_forecasts(client, services) -> None:
    feed_and_cycle(client, services, steps=40)
    check = run_drift_check(services)
    assert check is not None
    result = check.assessment
    assert result.realised_points > 50  # forecasts made 5-30 minutes earlier met their actuals
    assert result.per is not None and 0 <= result.per < 0.1
    assert result.dss is None  # the fallback model has no reference statistics
    report = client.get("/drift/report").get_json()
    assert report["metrics"]["per"]["value"] == result.per
    assert report["metrics"]["per"]["status"] in {"ok", "warning", "drift"}
    assert set(report["per_by_target"]) == {
        "cpu_pct",
        "mem_pct",
        "swap_pct",
        "iowait_pct",
        "load",
        "disk_pct",
    }
    assert client.get("/drift/status").get_json()["checked_at"] is not None


def test_models_list_starts_empty_with_the_fallback_serving(client) -> None:
    body = client.get("/admin/models").get_json()
    assert body == {"serving": "baseline", "models": []}


@pytest.mark.parametrize(
    "path", ["../etc", "/etc/passwd", "models/../../x", "models/a/b", "a\\b", "..", "nosuch"]
)
def test_reload_refuses_paths_outside_the_models_dir(client, path) -> None:
    resp = client.post("/admin/reload-model", query_string={"model_path": path})
    assert resp.status_code == 400, resp.get_json()
    assert client.get("/status").get_json()["model"] == "baseline"


def test_training_status_is_idle_and_cancel_is_harmless(client) -> None:
    assert client.get("/admin/training-status").get_json()["status"] == "idle"
    assert client.post("/admin/cancel-training").get_json()["status"] == "idle"
    stats = client.get("/admin/training-stats").get_json()
    assert stats == {"total_runs": 0, "by_status": {}, "by_reason": {}, "runs": []}


def test_trigger_training_without_data_is_a_conflict(client) -> None:
    resp = client.post("/admin/trigger-training?epochs=1")
    assert resp.status_code == 409
    assert "no data" in resp.get_json()["detail"]
