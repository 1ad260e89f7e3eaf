"""Metrics a source cannot provide, and real core counts, through the feed and a cycle."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from argus.daemon.cycle import run_cycle
from argus.daemon.drift_job import recent_inputs, run_drift_check
from argus.storage.metrics import read_window_samples
from tests.factories import BASE_TIME, make_record

HOST_ONLY = ("java_cpu_pct", "back_close_wait", "front_close_wait", "disk_usage_pct")


def host_record(server: str, step: int, **overrides: object) -> dict:
    """A record as a host collector without disk or application metrics sends it."""
    record = make_record(server, BASE_TIME + timedelta(minutes=5 * step))
    for name in HOST_ONLY:
        record.pop(name)
    record["cpu_iowait_pct"] = None
    record.update(overrides)
    return record


def feed(client, records: list[dict]) -> dict:
    resp = client.post("/feed/data", json={"records": records})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_absent_or_null_optional_metrics_are_stored_as_missing(client, services) -> None:
    assert feed(client, [host_record("ppweb001", 0)])["accepted"] == 1
    [row] = read_window_samples(services.store, 10)
    assert all(row[name] is None for name in (*HOST_ONLY, "cpu_iowait_pct", "cpu_cores"))
    assert row["mem_used_pct"] == 55.0


def test_a_malformed_optional_value_still_refuses_the_whole_batch(client, services) -> None:
    batch = [host_record("ppweb001", 0), host_record("ppweb001", 1, java_cpu_pct="lots")]
    batch.append(host_record("ppweb001", 2, cpu_cores=0))
    batch.append(make_record("ppweb001", BASE_TIME, mem_used_pct=None))  # a required metric
    resp = client.post("/feed/data", json={"records": batch})
    assert resp.status_code == 422
    fields = {(e["index"], e["field"]) for e in resp.get_json()["errors"]}
    assert fields == {(1, "java_cpu_pct"), (2, "cpu_cores"), (3, "mem_used_pct")}
    assert read_window_samples(services.store, 10) == []


def test_missing_targets_get_no_forecast_and_reported_cores_set_load_thresholds(
    client, services
) -> None:
    # Load 7 on every server: past critical (6) for 4 cores (the Generic profile), calm for 16.
    records = []
    for step in range(60):
        records.append(host_record("gen-small", step, load_average=7.0))
        records.append(host_record("gen-big", step, load_average=7.0, cpu_cores=16))
        records.append(make_record("gen-full", BASE_TIME + timedelta(minutes=5 * step)))
    feed(client, records)
    assert run_cycle(services) is not None
    body = client.get("/predictions/current").get_json()["predictions"]

    small, big, full = body["gen-small"], body["gen-big"], body["gen-full"]
    assert (small["cpu_cores"], small["cpu_cores_source"]) == (4, "profile")
    assert (big["cpu_cores"], big["cpu_cores_source"]) == (16, "reported")
    assert small["alert"]["level"] == "critical" and small["dominant_metric"] == "load"
    assert big["alert"]["level"] == "healthy"

    for pred in (small, big):
        assert pred["forecast"]["disk_pct"] is None and pred["forecast"]["iowait_pct"] is None
        assert "disk_pct" not in pred["forecast"]["p10"]
        assert set(pred["breach_probability"]) == {"cpu_pct", "mem_pct", "swap_pct", "load"}
        assert not set(HOST_ONLY) & set(pred["metrics_reported"])
        assert "cpu_iowait_pct" not in pred["metrics_reported"]
    assert len(full["forecast"]["disk_pct"]) == 96

    # Drift, cascades and explanations read the same window without tripping over the gaps.
    disk = recent_inputs(services, BASE_TIME)["disk_pct"]
    assert int(np.isfinite(disk).sum()) == 60  # gen-full's only: no value made up for the others
    assert run_drift_check(services) is not None
    assert services.cascade is not None and services.cascade.result.total_servers == 3
    explained = client.get("/explain/gen-small")
    assert explained.status_code == 200, explained.get_json()
    assert {"disk_usage_pct", "java_cpu_pct", "cpu_iowait_pct"} <= set(full["metrics_reported"])


def test_the_tft_forecasts_a_server_that_never_sends_disk_or_iowait(tiny_model) -> None:
    from argus.forecast.artifacts import load_model
    from argus.window import FleetWindow

    window = FleetWindow(2304)
    window.add(
        {**r, "timestamp": BASE_TIME + timedelta(minutes=5 * i)}
        for i in range(200)
        for r in (host_record("gen-small", 0), make_record("gen-full"))
    )
    forecast = load_model(tiny_model, "tiny").predict(window.grid().frame())
    assert set(forecast.servers) == {"gen-small", "gen-full"}
    assert np.isfinite(forecast.values).all()  # the missing inputs poisoned nothing
    assert forecast.model_of("gen-small").startswith("tft")
