"""The argus CLI against a real daemon: every read command, exit codes, no colour under cron."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tests.factories import BASE_TIME, LiveDaemon, argus_command, make_record


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        argus_command(*args),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> LiveDaemon:
    """A daemon with two servers, one at 99 % memory, and at least one prediction cycle."""
    home = tmp_path_factory.mktemp("cli") / "home"
    daemon = LiveDaemon(home=home, extra_env={"ARGUS_CYCLE_CHECK_SECONDS": "0.5"}).start()
    records = [
        make_record(
            name,
            BASE_TIME + timedelta(minutes=5 * i),
            mem_used_pct=99.0 if name == "ppdb001" else 40.0,
        )
        for i in range(80)
        for name in ("ppdb001", "ppweb001")
    ]
    assert daemon.post("/feed/data", json={"records": records}).status_code == 200
    deadline = time.monotonic() + 60
    while daemon.get("/predictions/current").status_code != 200:
        assert time.monotonic() < deadline, "no prediction cycle"
        time.sleep(0.3)
    yield daemon
    daemon.stop()


def env_for(live: LiveDaemon) -> dict[str, str]:
    return {"ARGUS_URL": live.url, "ARGUS_API_KEY": live.key}


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["status"], lambda d: d["servers_tracked"] == 2),
        (["alerts"], lambda d: [a["server_name"] for a in d["alerts"]] == ["ppdb001"]),
        (["predictions"], lambda d: set(d["predictions"]) == {"ppdb001", "ppweb001"}),
        (["predictions", "--server", "ppweb001"], lambda d: list(d["predictions"]) == ["ppweb001"]),
        (["history", "--range", "1d"], lambda d: d["total_alerts"] == 1),
        (["history", "--server", "ppdb001"], lambda d: d["alert_count"] == 1),
        (
            ["cascade"],
            lambda d: d["health"]["total_servers"] == 2 and "recent_events" in d["status"],
        ),
        (["drift"], lambda d: set(d["metrics"]) == {"per", "dss", "fds", "anomaly_rate"}),
        (["drift", "--report"], lambda d: "recommendations" in d),
        (["models"], lambda d: d["serving"] == "baseline" and d["models"] == []),
        (["training-status"], lambda d: d["status"] == "idle"),
        (
            ["explain", "ppdb001"],
            lambda d: d["server_name"] == "ppdb001" and d["counterfactuals"] is not None,
        ),
    ],
)
def test_read_commands_json(live, args, expect) -> None:
    proc = run_cli(*args, "--json", env=env_for(live))
    assert proc.returncode == 0, proc.stderr
    assert expect(json.loads(proc.stdout))


@pytest.mark.parametrize(
    "args",
    [["status"], ["alerts"], ["predictions"], ["history"], ["cascade"], ["drift"], ["models"]],
)
def test_tables_for_people_have_no_colour_without_a_tty(live, args) -> None:
    proc = run_cli(*args, env=env_for(live))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() and "\x1b[" not in proc.stdout


def test_alerts_table_names_the_server_and_message(live) -> None:
    out = run_cli("alerts", env=env_for(live)).stdout
    assert "ppdb001" in out and "critical" in out and "Memory" in out


def test_export_to_file_equals_the_api(live, tmp_path) -> None:
    out = tmp_path / "alerts.csv"
    proc = run_cli(
        "export", "--table", "alerts", "--range", "1d", "--out", str(out), env=env_for(live)
    )
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    api = live.get("/historical/alerts", params={"time_range": "1d"}).json()["events"]
    assert [(r["server_name"], r["kind"], r["level"]) for r in rows] == [
        (e["server_name"], e["event"], e["level"]) for e in api
    ]


def test_export_json_to_stdout(live) -> None:
    proc = run_cli("export", "--table", "environment", "--format", "json", env=env_for(live))
    assert proc.returncode == 0
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    api = live.get("/historical/environment", params={"time_range": "1d"}).json()["snapshots"]
    assert [r["fleet_health"] for r in lines][: len(api)] == [s["fleet_health"] for s in api][
        : len(lines)
    ]
    assert lines


def test_wrong_key_is_a_clear_error(live) -> None:
    # /status is public, so a protected command shows the key refused.
    proc = run_cli("alerts", env={"ARGUS_URL": live.url, "ARGUS_API_KEY": "wrong-key-0123456789"})
    assert proc.returncode == 1
    assert "refused the API key" in proc.stderr and "Traceback" not in proc.stderr


def test_daemon_not_running_is_a_clear_error(tmp_path) -> None:
    proc = run_cli("alerts", env={"ARGUS_URL": "http://127.0.0.1:9", "ARGUS_API_KEY": "k" * 20})
    assert proc.returncode == 1
    assert "no daemon answers" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_finds_the_daemon_through_its_runtime_file(live) -> None:
    proc = run_cli(
        "status",
        "--json",
        env={"ARGUS_HOME": str(live.home), "ARGUS_API_KEY": live.key, "ARGUS_URL": ""},
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["servers_tracked"] == 2


def test_reload_model_refuses_a_path_outside_the_models_dir(live) -> None:
    proc = run_cli("reload-model", "../../etc", env=env_for(live))
    assert proc.returncode == 1 and "400" in proc.stderr and "Traceback" not in proc.stderr


def test_trigger_and_cancel_training(live) -> None:
    started = run_cli("trigger-training", "--epochs", "50", "--json", env=env_for(live))
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["status"] == "running"
    again = run_cli("trigger-training", env=env_for(live))
    assert again.returncode == 1 and "409" in again.stderr
    stopped = run_cli("cancel-training", "--json", env=env_for(live))
    assert stopped.returncode == 0 and json.loads(stopped.stdout)["status"] in {
        "cancelled",
        "failed",
    }


def test_bad_option_is_usage_error() -> None:
    proc = run_cli("export", "--table", "secrets")
    assert proc.returncode == 2


def test_offline_export_from_a_stopped_daemons_file(tmp_path) -> None:
    daemon = LiveDaemon(home=tmp_path / "home").start()
    records = [make_record("ppdb001", BASE_TIME + timedelta(minutes=5 * i)) for i in range(30)]
    daemon.post("/feed/data", json={"records": records})
    daemon.stop()
    out = tmp_path / "metrics.parquet"
    db = str(Path(daemon.home) / "argus.duckdb")
    proc = run_cli(
        "export", "--table", "metrics", "--format", "parquet", "--db", db, "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    import pyarrow.parquet as pq

    table = pq.read_table(out)
    assert table.num_rows == 30 and "mem_used_pct" in table.column_names
