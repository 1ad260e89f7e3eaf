"""POST /feed/data: validation, all-or-nothing batches, duplicates."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from argus.daemon.services import Services
from argus.storage.metrics import count_samples
from tests.factories import BASE_TIME, make_batch, make_record


def post(client, body) -> tuple[int, dict]:
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    resp = client.post("/feed/data", data=data, content_type="application/json")
    return resp.status_code, resp.get_json()


def test_valid_batch_is_stored_and_counted(client, services: Services) -> None:
    code, body = post(client, {"records": make_batch(servers=3, steps=40)})
    assert code == 200
    assert body["accepted"] == 120
    assert body["status"] == "accepted"  # 120 >= the 100 records warm-up needs
    assert body["servers_tracked"] == 3
    assert count_samples(services.store) == 120


def test_small_batch_reports_warming_up(client) -> None:
    code, body = post(client, {"records": make_batch(servers=1, steps=10)})
    assert code == 200
    assert body["status"] == "warming_up"
    assert body["warmup"] == {"records": 10, "required": 100, "complete": False}


def test_duplicates_are_reported_not_stored_twice(client, services: Services) -> None:
    first = make_batch(servers=2, steps=5)
    post(client, {"records": first})
    repeat = (
        first[:3] + [first[0]] + make_batch(servers=2, steps=1, start=BASE_TIME + timedelta(days=1))
    )
    code, body = post(client, {"records": repeat})
    assert code == 200
    assert body["accepted"] == 2
    assert body["duplicates"] == 4
    assert {d["server_name"] for d in body["duplicate_records"]} <= {"ppweb000", "ppweb001"}
    assert count_samples(services.store) == 12
    code, body = post(client, {"records": first[:2]})
    assert body["status"] == "ignored" and body["accepted"] == 0


def _bad_records() -> list[tuple[str, dict, str]]:
    missing = make_record()
    del missing["mem_used_pct"]
    return [
        ("missing field", missing, "mem_used_pct"),
        ("wrong type", make_record(cpu_user_pct="lots"), "cpu_user_pct"),
        ("out of range", make_record(mem_used_pct=120.5), "mem_used_pct"),
        ("negative", make_record(net_in_mb_s=-1), "net_in_mb_s"),
        ("unknown status", make_record(status="on_fire"), "status"),
        ("unparsable timestamp", make_record(ts="yesterday-ish"), "timestamp"),
        ("fractional int", make_record(back_close_wait=2.5), "back_close_wait"),
        ("empty name", make_record(server=""), "server_name"),
    ]


@pytest.mark.parametrize(("case", "bad", "field"), _bad_records(), ids=lambda v: str(v)[:20])
def test_bad_record_refuses_whole_batch(client, services, case, bad, field) -> None:
    good = make_batch(servers=1, steps=3)
    code, body = post(client, {"records": [*good, bad]})
    assert code == 422, case
    assert body["status"] == 422
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(3, field)]
    assert count_samples(services.store) == 0
    assert services.window.record_count == 0


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused(client, services, literal) -> None:
    raw = json.dumps({"records": [make_record(cpu_user_pct=1.0)]}).replace("1.0", literal, 1)
    code, body = post(client, raw)
    assert code == 422
    assert body["errors"][0]["field"] == "cpu_user_pct"
    assert count_samples(services.store) == 0


def test_every_bad_record_is_listed(client) -> None:
    batch = [make_record(mem_used_pct=-1), make_record(), make_record(status="x", load_average=-2)]
    code, body = post(client, {"records": batch})
    assert code == 422
    assert sorted((e["index"], e["field"]) for e in body["errors"]) == [
        (0, "mem_used_pct"),
        (2, "load_average"),
        (2, "status"),
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("this is not json", 400),
        ("[1, 2, 3]", 400),
        ('{"records": []}', 422),
        ('{"records": "nope"}', 422),
        ("", 400),
    ],
)
def test_malformed_bodies(client, services, body, code) -> None:
    status, payload = post(client, body)
    assert status == code
    assert payload["status"] == code and payload["detail"]
    assert count_samples(services.store) == 0


def test_body_over_limit_is_413(client, services) -> None:
    batch = make_batch(servers=10, steps=400)  # ~2 MB against the fixture's 1 MB limit
    code, body = post(client, {"records": batch})
    assert code == 413
    assert "limit" in body["detail"]
    assert count_samples(services.store) == 0


def test_extra_fields_are_ignored_and_zones_converted(client, services) -> None:
    rec = make_record(ts="2025-01-15T12:00:00+02:00", collector="node-exporter", disk_io_mb_s=3.5)
    code, _ = post(client, {"records": [rec]})
    assert code == 200
    (row,) = services.window.grid().latest_rows().values()
    assert row["timestamp"].isoformat() == "2025-01-15T10:00:00"
    assert row["disk_io_mb_s"] == 3.5
    assert row["profile"] == "Database"
