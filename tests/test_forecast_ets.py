"""The statistical kind ("ets") behind the same boundary as the TFT: its recursion is
statsmodels' ETS, it trains, saves, loads and serves through the real CLI and daemon."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from argus.forecast import registry
from argus.forecast.artifacts import load_model, read_metadata
from argus.forecast.base import (
    Calibrated,
    Configurable,
    HasMetadata,
    HasReference,
    Interpretable,
    PredictsBuckets,
    TrainOptions,
)
from argus.forecast.baseline import SeasonalNaive
from argus.forecast.ets import _INIT_STEPS, ETSForecaster, forecast_paths, smooth
from argus.forecast.training import train_model
from argus.simulate import simulate_fleet
from argus.simulate.dataset import block_frame, frame_records
from tests.factories import LiveDaemon, argus_command
from tests.forecast_support import synthetic_fleet


def test_the_recursion_and_its_intervals_are_statsmodels_ets() -> None:
    y = np.cumsum(np.random.default_rng(3).normal(0, 1, 600)) + 50
    alpha, beta, phi = 0.4, 0.05, 0.9
    params = (np.array([alpha]), np.array([beta]), np.array([phi]))
    model = ETSModel(
        pd.Series(y),
        error="add",
        trend="add",
        damped_trend=True,
        initialization_method="known",
        initial_level=float(y[:_INIT_STEPS].mean()),
        initial_trend=0.0,
    )
    reference = model.smooth([alpha, beta, phi])
    level, trend, sigma2 = smooth(y[None], *params)
    mean, sd = forecast_paths(level, trend, sigma2, params, 96)
    np.testing.assert_allclose(mean[0], reference.forecast(96).to_numpy(), rtol=1e-9)
    variance = np.asarray(reference.get_prediction(600, 695).var_pred_mean)
    np.testing.assert_allclose(sd[0], np.sqrt(variance), rtol=1e-9)


def test_forecasts_follow_the_day_and_beat_seasonal_naive_on_a_noisy_fleet() -> None:
    fleet = synthetic_fleet(servers=3, days=5, seed=2)
    cut = fleet["timestamp"].min() + pd.Timedelta(days=4)
    past, future = fleet[fleet["timestamp"] < cut], fleet[fleet["timestamp"] >= cut]
    model = registry.get("ets").create({"fit_servers": 3})
    report = model.fit(past, options=TrainOptions(seed=1))
    assert report.validation_from is not None  # parameters come from before the held-out part
    newcomer = past[past["server_name"] == "ppdb01"].tail(50).assign(server_name="ppnew01")
    forecast = model.predict(pd.concat([past, newcomer]))
    assert forecast.model_of("ppnew01") == "baseline"  # under a day of history: the fallback
    assert forecast.model_of("ppdb01") == "ets:unsaved"
    values = forecast.values
    assert (np.diff(values, axis=-1) >= 0).all() and (values[:, :5] <= 100).all()
    assert forecast.timestamps[0, 0] == np.datetime64(cut)
    naive = SeasonalNaive().predict(past)
    errors = {}
    for name, fs in (("ets", forecast), ("seasonal_naive", naive)):
        err = []
        for server in ("ppdb01", "ppweb01", "ppml01"):
            actual = future[future["server_name"] == server]["cpu_idle_pct"].to_numpy()[:96]
            err.append(np.abs(fs.median(server, "cpu_pct") - (100 - actual)).mean())
        errors[name] = float(np.mean(err))
    # the same-slot median over several days averages the noise seasonal naive copies
    assert errors["ets"] < 0.8 * errors["seasonal_naive"], errors


def test_a_saved_ets_model_loads_with_its_parameters_and_protocols(tmp_path) -> None:
    fleet = synthetic_fleet(servers=3, days=3, seed=4)
    result = train_model(
        fleet, models_dir=tmp_path, name="e1", kind="ets", config={"fit_servers": 2}
    )
    meta = read_metadata(tmp_path, "e1")
    assert meta["kind"] == "ets" and meta["config"]["fit_servers"] == 2
    assert set(meta["library_majors"]) == {"statsmodels"}
    assert {r["model"] for r in meta["backtest"]["results"]} == {"ets", "naive", "seasonal_naive"}
    loaded = load_model(tmp_path, "e1")
    assert isinstance(loaded, ETSForecaster) and loaded.params == meta["parameters"]
    assert isinstance(loaded, Configurable) and isinstance(loaded, HasReference)
    assert not isinstance(loaded, Interpretable)  # /explain uses occlusion for it
    assert isinstance(loaded, PredictsBuckets) and isinstance(loaded, HasMetadata)
    assert not isinstance(loaded, Calibrated)  # served with the model's own bands
    assert loaded.reference_statistics() == result.metadata["reference"]
    in_memory = registry.get("ets").create({"fit_servers": 2})
    in_memory.fit(fleet, options=TrainOptions())  # train_model's defaults: the same parameters
    np.testing.assert_array_equal(loaded.predict(fleet).values, in_memory.predict(fleet).values)


def test_unknown_kinds_and_settings_are_refused_clearly(tmp_path) -> None:
    data = tmp_path / "x.csv"
    synthetic_fleet(servers=1, days=1).to_csv(data, index=False)
    bad = subprocess.run(
        argus_command("train", "--kind", "arima", "--home", str(tmp_path), "--data", str(data)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "unknown model kind 'arima'" in bad.stderr + bad.stdout
    with pytest.raises(Exception, match="unknown ETS settings"):
        registry.get("ets").create({"hidden_size": 8})


@pytest.fixture
def ets_daemon(tmp_path) -> LiveDaemon:
    """A daemon serving an ETS model that `argus train --kind ets` trained and activated."""
    home = tmp_path / "home"
    data = tmp_path / "history.parquet"
    block_frame(simulate_fleet(servers=4, days=3, seed=7).block).to_parquet(data)
    trained = subprocess.run(
        argus_command(
            "train",
            "--kind",
            "ets",
            "--data",
            str(data),
            "--home",
            str(home),
            "--name",
            "ets-one",
            "--json",
        ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert trained.returncode == 0, trained.stderr
    assert json.loads(trained.stdout)["current"] is True
    env = {
        "ARGUS_CYCLE_CHECK_SECONDS": "0.5",
        "ARGUS_RETRAIN_DAYS": "3",
        "ARGUS_RETRAIN_HOLDOUT_HOURS": "6",
        "ARGUS_RATE_LIMITS_ENABLED": "false",  # the test polls training-status
    }
    daemon = LiveDaemon(home=home, extra_env=env).start()
    yield daemon
    daemon.stop()


def test_the_daemon_serves_explains_and_retrains_an_ets_model(ets_daemon) -> None:
    from tests.test_training_live import post_all, wait_for

    status = ets_daemon.get("/status").json()
    assert status["model"] == "ets:ets-one" and status["model_path"] == "models/ets-one"
    records = frame_records(block_frame(simulate_fleet(servers=4, days=2.5, seed=8).block))
    post_all(ets_daemon, records)
    current = wait_for(
        lambda: (r := ets_daemon.get("/predictions/current")).status_code == 200 and r.json()
    )
    assert {p["model"] for p in current["predictions"].values()} == {"ets:ets-one"}
    server = sorted(current["predictions"])[0]
    explained = ets_daemon.get(f"/explain/{server}")
    assert explained.status_code == 200, explained.text
    body = explained.json()
    assert body["model"] == "ets:ets-one"
    assert body["shap"]["method"] == "occlusion"  # not Interpretable: no network weights
    # the training child gets the serving model's kind and configuration
    assert ets_daemon.post("/admin/trigger-training").status_code == 202
    done = wait_for(
        lambda: (s := ets_daemon.get("/admin/training-status").json())["live"] is False and s,
        timeout=240,
    )
    assert done["status"] in {"promoted", "kept"}, done
    meta = json.loads(
        (ets_daemon.home / "models" / done["model_name"] / "metadata.json").read_text()
    )
    assert (
        meta["kind"] == "ets"
        and meta["config"] == read_metadata(ets_daemon.home / "models", "ets-one")["config"]
    )
