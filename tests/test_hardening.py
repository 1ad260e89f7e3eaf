"""Hardening: stray timestamps, retention, the training race, damaged files, backups, contract."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import signal
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from argus.cascade import TRACKED_METRICS, from_grid
from argus.daemon.cascade_job import detect_and_publish
from argus.daemon.cycle import run_cycle
from argus.daemon.retention import purge_expired
from argus.daemon.views import predictions_body
from argus.storage.metrics import count_samples, insert_samples
from argus.storage.store import DB_FILE_NAME, Store
from tests.factories import BASE_TIME, TEST_KEY, LiveDaemon, argus_command, make_batch, make_record


def wall_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def stored_count(home: Path) -> int:
    store = Store.open(home / DB_FILE_NAME, read_only=True)
    try:
        return count_samples(store)
    finally:
        store.close()


def metric_value(text: str, name: str) -> float:
    match = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


# --- 1. timestamps, retention, grids ---------------------------------------------------------


def test_stray_timestamps_are_refused_and_history_survives_a_clock_jump(tmp_path) -> None:
    daemon = LiveDaemon(home=tmp_path / "home").start()
    try:
        history = make_batch(3, 288)  # one day of 2025 data: a replay, far behind the wall clock
        assert daemon.post("/feed/data", json={"records": history}).status_code == 200
        future = make_record("ppdb001", wall_now() + timedelta(days=150))
        resp = daemon.post("/feed/data", json={"records": [future]})
        assert resp.status_code == 422
        [error] = resp.json()["errors"]
        assert error["index"] == 0 and error["field"] == "timestamp" and "future" in error["reason"]
        good = make_record("ppdb001", BASE_TIME + timedelta(days=1))
        old = make_record("ppdb001", "2000-01-01T00:00:00")
        resp = daemon.post("/feed/data", json={"records": [good, old]})
        assert resp.status_code == 422 and [e["index"] for e in resp.json()["errors"]] == [1]
        assert "retention window" in resp.json()["errors"][0]["reason"]
        # A live feed into the replayed store: accepted, but the jump is logged and counted.
        live = make_record("ppnew001", wall_now() - timedelta(minutes=1))
        assert daemon.post("/feed/data", json={"records": [live]}).status_code == 200
        assert metric_value(daemon.get("/metrics").text, "argus_clock_jumps_total") == 1
        assert daemon.stop() == 0
        daemon.start()  # start-up retention would now delete all but one sample: refused
        assert metric_value(daemon.get("/metrics").text, "argus_retention_refusals_total") >= 1
        purge = daemon.post("/admin/purge").json()
        assert purge["skipped"] is True and purge["removed"] == 0 and purge["expired"] == 864
        assert daemon.stop() == 0
        assert "retention skipped" in daemon.log.read_text()
        assert stored_count(daemon.home) == 865
    finally:
        if daemon.proc and daemon.proc.poll() is None:
            daemon.stop()


def test_one_old_record_cannot_stretch_the_grids_of_a_cycle(client, services) -> None:
    # The very first record may be old (nothing to compare it with); the fleet comes later.
    old = make_record("0", "2000-01-01T00:00:00")
    assert client.post("/feed/data", json={"records": [old]}).status_code == 200
    assert client.post("/feed/data", json={"records": make_batch(3, 150)}).status_code == 200
    steps = services.settings.window_steps
    grid = services.window.grid()  # what the cycle, detection, drift and /explain read
    assert grid.servers == ("ppweb000", "ppweb001", "ppweb002")  # "0" has no bucket inside
    assert grid.steps == 150 <= steps
    assert grid.timestamps()[0] >= np.datetime64(BASE_TIME)
    assert services.window.grid(only="0").steps == 0  # its one bucket is outside the window
    assert from_grid(grid, TRACKED_METRICS).steps == 150
    assert run_cycle(services) is not None
    view = detect_and_publish(services)
    assert view is not None and view.result.total_servers == 3
    # Retention: the one old sample is a small share, so it goes; a large share waits.
    services.settings = services.settings.model_copy(update={"retention_max_share": 0.001})
    refused = purge_expired(services)
    assert refused.skipped and refused.expired == 1 and count_samples(services.store) == 451
    assert purge_expired(services, force=True).removed == 1


# --- 2. training runs ----------------------------------------------------------------------


def test_trigger_cancel_trigger_within_a_second_never_answers_500(daemon) -> None:
    assert daemon.post("/feed/data", json={"records": make_batch(2, 300)}).status_code == 200
    codes = []
    for path in (
        "/admin/trigger-training",
        "/admin/cancel-training",
        "/admin/trigger-training",
        "/admin/trigger-training",
        "/admin/cancel-training",
        "/admin/cancel-training",
        "/admin/trigger-training",
        "/admin/cancel-training",
    ):
        codes.append(daemon.post(path, params={"epochs": 1}).status_code)
    assert codes == [202, 200, 202, 409, 200, 200, 202, 200]
    stats = daemon.get("/admin/training-stats").json()
    ids = [r["id"] for r in stats["runs"]]
    assert len(ids) == 3 == len(set(ids)) and stats["by_status"] == {"cancelled": 3}
    status = daemon.get("/admin/training-status").json()
    assert status["live"] is False and status["status"] == "cancelled"
    with pytest.raises(ProcessLookupError):  # the last child is gone
        os.kill(status["pid"], 0)
    assert not list((daemon.home / "models").glob("tft-manual-*"))


# --- 3. damaged files and backups -----------------------------------------------------------


def _damage(home: Path, how: str) -> Path:
    home.mkdir(parents=True)
    db = home / DB_FILE_NAME
    if how == "current":
        (home / "models").mkdir()
        (home / "models" / "current").write_bytes(b"\xff\xfe\x00bad")
        return home / "models" / "current"
    if how == "zero-byte":
        db.write_bytes(b"")
    elif how == "garbage":
        db.write_bytes(os.urandom(40_000))
    else:
        store = Store.open(db)
        rows = [
            {**r, "timestamp": datetime.fromisoformat(r["timestamp"]), "profile": "Web API"}
            for r in make_batch(20, 500)
        ]
        insert_samples(store, rows, BASE_TIME)
        store.close()
        with db.open("r+b") as fh:
            fh.truncate(db.stat().st_size - 5000)
    return db


@pytest.mark.parametrize("how", ["truncated", "zero-byte", "garbage", "current"])
def test_a_damaged_file_stops_start_up_with_one_line(tmp_path, how) -> None:
    home = tmp_path / "home"
    damaged = _damage(home, how)
    proc = subprocess.run(
        argus_command("serve", "--port", "0", "--home", str(home)),
        env={**os.environ, "ARGUS_API_KEY": TEST_KEY},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("argus: ")]
    assert len(errors) == 1 and str(damaged) in errors[0], proc.stderr
    assert re.search(r"restore|delete it", errors[0])


def test_backup_through_the_running_daemon_after_a_kill_9(tmp_path) -> None:
    daemon = LiveDaemon(home=tmp_path / "home").start()
    try:
        fed = 0
        for day in range(3):
            batch = make_batch(4, 100, BASE_TIME + timedelta(hours=10 * day))
            assert daemon.post("/feed/data", json={"records": batch}).status_code == 200
            fed += len(batch)
        daemon.stop(signal.SIGKILL)
        wal = daemon.home / (DB_FILE_NAME + ".wal")
        unclean = wal.exists() and wal.stat().st_size > 0
        daemon.start()
        if unclean:
            assert "was not closed cleanly" in daemon.log.read_text()
        out = tmp_path / "argus-backup.duckdb"
        cli = subprocess.run(
            argus_command("backup", "--out", str(out), "--url", daemon.url),
            env={**os.environ, "ARGUS_API_KEY": TEST_KEY, "ARGUS_HOME": str(daemon.home)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert cli.returncode == 0, cli.stderr
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        assert not list((daemon.home / "backups").iterdir())  # the spool file is gone
    finally:
        daemon.stop()
    restored = tmp_path / "restored"
    restored.mkdir()
    out.replace(restored / DB_FILE_NAME)  # the documented restore: copy in, start
    assert stored_count(restored) == fed
    again = LiveDaemon(home=restored).start()
    try:
        assert again.get("/status").json()["window_records"] == fed
    finally:
        again.stop()


# --- 4. contract and hygiene ----------------------------------------------------------------


def test_times_carry_z_and_405_says_allow(client) -> None:
    assert client.post("/feed/data", json={"records": make_batch(2, 10)}).status_code == 200
    status = client.get("/status").get_json()
    assert status["data_time"].endswith("Z") and status["last_ingest"].endswith("Z")
    resp = client.delete("/feed/data")
    assert resp.status_code == 405 and "POST" in resp.headers["Allow"]
    spec = client.get("/openapi.json").get_json()
    export = spec["paths"]["/historical/export/{table}"]["get"]["parameters"]
    table = next(p for p in export if p["name"] == "table")
    assert table["schema"]["enum"] == ["alerts", "environment", "metrics", "predictions"]
    reload = spec["paths"]["/admin/reload-model"]["post"]["parameters"]
    model_path = next(p for p in reload if p["name"] == "model_path")
    assert "pattern" in json.dumps(model_path["schema"])
    status_schema = spec["components"]["schemas"]["StatusBody"]["properties"]["data_time"]
    assert "date-time" in json.dumps(status_schema)


@pytest.mark.parametrize(
    "override",
    [
        {"mem_used_pct": True},
        {"mem_used_pct": "20"},
        {"profile": "=HYPERLINK(\"http://x\")"},
        {"profile": "Web\x07API"},
        {"server_name": "web\n01"},
    ],
)
def test_strict_numbers_and_printable_names(client, override) -> None:
    resp = client.post("/feed/data", json={"records": [make_record(**override)]})
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == next(iter(override))


def test_csv_export_neutralises_formula_prefixes(client) -> None:
    records = [make_record("-2.evil", BASE_TIME), make_record("ok01", BASE_TIME)]
    assert client.post("/feed/data", json={"records": records}).status_code == 200
    resp = client.get("/historical/export/metrics", query_string={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    names = {r["server_name"] for r in rows}
    assert names == {"'-2.evil", "ok01"}
    assert all(r["timestamp"].endswith("Z") for r in rows)


def test_models_symlinks_paths_and_file_modes(client, services, tmp_path) -> None:
    home = services.settings.home
    models = home / "models"
    models.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "metadata.json").write_text("{}")
    (models / "linked").symlink_to(outside)
    listed = client.get("/admin/models").get_json()["models"]
    assert [m["name"] for m in listed] == []
    resp = client.post("/admin/reload-model", query_string={"model_path": "linked"})
    assert resp.status_code == 400 and "symbolic link" in resp.get_json()["detail"]
    (models / "empty").mkdir()  # no metadata.json: the error names the model, not the path
    missing = client.post("/admin/reload-model", query_string={"model_path": "empty"})
    assert missing.status_code == 409 and "'empty'" in missing.get_json()["detail"]
    assert str(home) not in missing.get_json()["detail"]
    assert stat.S_IMODE((home / DB_FILE_NAME).stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


# --- 5. reads scale -------------------------------------------------------------------------


def test_predictions_gzip_and_filters(client, services) -> None:
    hot = [make_record("ppdb009", BASE_TIME + timedelta(minutes=5 * i), mem_used_pct=99.5)
           for i in range(150)]  # fmt: skip
    batch = make_batch(3, 150) + hot
    assert client.post("/feed/data", json={"records": batch}).status_code == 200
    snapshot = run_cycle(services)
    assert snapshot is not None
    plain = client.get("/predictions/current")
    assert plain.get_data() == predictions_body(snapshot).model_dump_json().encode()
    zipped = client.get("/predictions/current", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    one = client.get("/predictions/current", query_string={"server": "ppweb001,nope"}).get_json()
    assert list(one["predictions"]) == ["ppweb001"]
    assert one["summary"]["total_servers"] == 4
    levels = {n: p["alert"]["level"] for n, p in plain.get_json()["predictions"].items()}
    worst = levels["ppdb009"]
    assert worst != "healthy"
    picked = client.get("/predictions/current", query_string={"level": worst}).get_json()
    assert set(picked["predictions"]) == {n for n, lvl in levels.items() if lvl == worst}
    assert client.get("/predictions/current", query_string={"level": "red"}).status_code == 400


def test_wall_clock_is_only_a_ceiling(client) -> None:
    """Replays keep working: any past data time is fine, as long as it is not in the future."""
    start = wall_now() - timedelta(days=400)
    assert client.post("/feed/data", json={"records": make_batch(2, 5, start)}).status_code == 200
    soon = make_record("ppdb001", wall_now() + timedelta(minutes=5))
    assert client.post("/feed/data", json={"records": [soon]}).status_code == 200


def test_offline_backup_of_a_stopped_daemons_store(tmp_path) -> None:
    home = tmp_path / "home"
    store = Store.open(home / DB_FILE_NAME)
    rows = [
        {**r, "timestamp": datetime.fromisoformat(r["timestamp"]), "profile": "Web API"}
        for r in make_batch(3, 20)
    ]
    insert_samples(store, rows, BASE_TIME)
    store.close()
    out = tmp_path / "copy.duckdb"
    cli = subprocess.run(
        argus_command("backup", "--offline", "--out", str(out), "--home", str(home)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    restored = tmp_path / "restored"
    restored.mkdir()
    out.replace(restored / DB_FILE_NAME)
    assert stored_count(restored) == 60
    again = subprocess.run(
        argus_command("backup", "--offline", "--out", str(restored / DB_FILE_NAME), "--home",
                      str(home)),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert again.returncode == 2 and "already exists" in again.stderr
