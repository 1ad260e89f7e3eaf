"""Model administration against real TFTs: reload, corrupt checkpoints, training children, drift."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from argus.config import Settings
from argus.daemon.cycle import run_cycle
from argus.daemon.drift_job import run_drift_check
from argus.daemon.models import load_serving_model
from argus.daemon.service import build_services
from argus.daemon.training import TrainingConflictError
from argus.simulate import simulate_fleet
from argus.simulate.dataset import block_frame, frame_records
from tests.conftest import install_model
from tests.factories import TEST_KEY, LiveDaemon


def sim_records(days: float, seed: int = 5, servers: int = 6) -> list[dict]:
    return frame_records(block_frame(simulate_fleet(servers=servers, days=days, seed=seed).block))


def post_all(daemon: LiveDaemon, records: list[dict]) -> None:
    for i in range(0, len(records), 5000):
        assert daemon.post("/feed/data", json={"records": records[i : i + 5000]}).status_code == 200


def wait_for(predicate, timeout: float = 120.0, every: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not met in time")


def model_daemon(tmp_path, tiny_model, **env: str) -> LiveDaemon:
    """A started daemon serving a copy of the tiny TFT, retraining on 3 days, plus `env`."""
    home = tmp_path / "home"
    install_model(tiny_model, home)
    base = {"ARGUS_CYCLE_CHECK_SECONDS": "0.5", "ARGUS_RETRAIN_DAYS": "3"}
    return LiveDaemon(home=home, extra_env={**base, **env}).start()


@pytest.fixture
def tft_daemon(tmp_path, tiny_model) -> LiveDaemon:
    daemon = model_daemon(
        tmp_path, tiny_model, ARGUS_RETRAIN_HOLDOUT_HOURS="10", ARGUS_RETRAIN_MAX_MINUTES="1"
    )
    yield daemon
    daemon.stop()


def test_daemon_serves_the_current_tft(tft_daemon) -> None:
    status = tft_daemon.get("/status").json()
    assert status["model_loaded"] is True and status["model"] == "tft:tiny"
    assert status["model_path"] == "models/tiny"
    post_all(tft_daemon, sim_records(days=1.5))
    body = wait_for(
        lambda: (
            tft_daemon.get("/predictions/current").json()
            if tft_daemon.get("/predictions/current").status_code == 200
            else None
        )
    )
    assert {p["model"] for p in body["predictions"].values()} == {"tft:tiny"}


def test_corrupt_checkpoint_is_refused_and_the_old_model_keeps_serving(tft_daemon) -> None:
    models = tft_daemon.home / "models"
    broken = models / "broken"
    broken.mkdir()
    for f in (models / "tiny").iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    meta = (broken / "metadata.json").read_text().replace('"name": "tiny"', '"name": "broken"')
    (broken / "metadata.json").write_text(meta)
    ckpt = next(p for p in broken.iterdir() if p.suffix == ".ckpt")
    ckpt.write_bytes(ckpt.read_bytes()[:-100] + b"x" * 100)
    resp = tft_daemon.post("/admin/reload-model", params={"model_path": "models/broken"})
    assert resp.status_code == 409 and "sha256" in resp.json()["detail"]
    assert tft_daemon.get("/status").json()["model"] == "tft:tiny"
    names = {m["name"]: m for m in tft_daemon.get("/admin/models").json()["models"]}
    assert names["tiny"]["serving"] is True
    ok = tft_daemon.post("/admin/reload-model", params={"model_path": "tiny"})
    assert ok.status_code == 200 and ok.json()["model"] == "tft:tiny"


@pytest.fixture
def long_training_daemon(tmp_path, tiny_model) -> LiveDaemon:
    """A daemon whose trainings last minutes: no early stop, a 5-minute cap (a tiny model's
    epoch takes a fraction of a second, so patience would otherwise end it in seconds)."""
    daemon = model_daemon(
        tmp_path, tiny_model, ARGUS_RETRAIN_MAX_MINUTES="5", ARGUS_RETRAIN_PATIENCE="500"
    )
    yield daemon
    daemon.stop()


def test_training_runs_in_a_child_cancel_stops_it_and_reads_keep_answering(
    long_training_daemon,
) -> None:
    daemon = long_training_daemon
    post_all(daemon, sim_records(days=2.5))
    wait_for(lambda: daemon.get("/predictions/current").status_code == 200)
    started = daemon.post("/admin/trigger-training", params={"epochs": 500})
    assert started.status_code == 202, started.text
    assert daemon.post("/admin/trigger-training").status_code == 409  # one at a time
    wait_for(lambda: (daemon.get("/admin/training-status").json().get("epoch") or 0) >= 1)
    for _ in range(20):  # reads keep answering while the child trains (latency: bench/)
        assert daemon.get("/predictions/current").status_code == 200
    status = daemon.get("/admin/training-status").json()
    assert status["live"] and status["total_epochs"] == 500 and 0 < status["percent"] < 100
    argv = Path(f"/proc/{status['pid']}/cmdline").read_bytes().split(b"\0")
    assert argv[argv.index(b"--patience") + 1] == b"500"  # the setting reaches the child
    cancelled = daemon.post("/admin/cancel-training").json()
    assert cancelled["status"] == "cancelled" and cancelled["live"] is False
    assert daemon.get("/status").json()["model"] == "tft:tiny"
    stats = daemon.get("/admin/training-stats").json()
    assert stats["by_status"] == {"cancelled": 1}
    with pytest.raises(ProcessLookupError):  # the child is really gone (and reaped)
        wait_for(lambda: os.kill(status["pid"], 0) or None, timeout=20)


def test_doubled_cpu_is_detected_and_retraining_is_promoted_only_if_better(
    tmp_path, tiny_model
) -> None:
    home = tmp_path / "home"
    install_model(tiny_model, home)
    settings = Settings(
        home=home,
        rate_limits_enabled=False,
        enable_retraining=True,
        retrain_days=3,
        retrain_holdout_hours=10,
        retrain_max_minutes=1,
        retrain_epochs=1,
        drift_window_hours=12,
    )
    services = build_services(settings, TEST_KEY, load_serving_model(home, 1))
    try:
        records = sim_records(days=3.5, seed=5)
        shift_from = records[-1]["timestamp"][:10]  # the last day's date: a new workload arrives
        for r in records:
            if r["timestamp"] >= shift_from:
                busy = min(2 * (100 - r["cpu_idle_pct"]), 99.0)
                r["cpu_user_pct"] = busy - r["cpu_sys_pct"] - r["cpu_iowait_pct"]
                r["cpu_idle_pct"] = 100 - busy
        client = (
            __import__("argus.daemon.app", fromlist=["create_app"])
            .create_app(services)
            .test_client()
        )
        client.environ_base["HTTP_X_API_KEY"] = TEST_KEY
        for i in range(0, len(records), 5000):
            assert (
                client.post("/feed/data", json={"records": records[i : i + 5000]}).status_code
                == 200
            )
        run_cycle(services)
        check = run_drift_check(services)
        assert check is not None and check.assessment.drift_detected
        assert check.assessment.feature_drift["cpu_pct"] >= settings.drift_fds

        run = services.training.request(reason="drift", cooldown=True)
        with pytest.raises(TrainingConflictError):
            services.training.request(reason="drift", cooldown=True)
        wait_for(lambda: not run.live, timeout=240)
        assert run.status in {"promoted", "kept"}, run.detail
        comparison = run.comparison
        assert comparison is not None and comparison.origins > 0, run.detail
        assert comparison.promoted == (comparison.candidate < comparison.current)
        serving = services.models.current.forecaster.name
        assert serving == (f"tft:{run.model_name}" if run.status == "promoted" else "tft:tiny")
        with pytest.raises(TrainingConflictError, match="cooldown"):
            services.training.request(reason="drift", cooldown=True)
        assert (home / "models" / run.model_name / "metadata.json").exists()
    finally:
        services.store.close()
