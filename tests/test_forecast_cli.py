"""`argus train --data` and `argus backtest --json` end to end through typer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from argus.cli.main import app
from tests.forecast_support import synthetic_fleet

pytestmark = pytest.mark.slow


def test_train_then_backtest_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # anything written to the working directory would show here
    data = tmp_path / "fleet.csv"
    synthetic_fleet(servers=2, days=2.2).to_csv(data, index=False)
    home = tmp_path / "home"
    runner = CliRunner()
    trained = runner.invoke(app, [
        "train", "--data", str(data), "--home", str(home), "--epochs", "1",
        "--batches-per-epoch", "2", "--hidden-size", "4", "--name", "cli1", "--json",
    ], env={"ARGUS_MAX_MINUTES": "2", "ARGUS_SEED": "3"})
    assert trained.exit_code == 0, trained.output
    summary = json.loads(trained.stdout)
    assert summary["name"] == "cli1" and summary["current"] is True
    assert summary["training"]["max_minutes"] == 2 and summary["training"]["seed"] == 3
    meta = json.loads((home / "models" / "cli1" / "metadata.json").read_text())
    assert meta["config"]["seasonal_target"] is True  # the default: changes since yesterday
    assert (home / "models" / "current").read_text().strip() == "cli1"

    result = runner.invoke(app, [
        "backtest", "--data", str(data), "--home", str(home), "--horizons", "1h,8h",
        "--days", "0.6", "--every", "2h", "--json",
    ])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["model"] == "cli1" and report["horizons"] == ["1h", "8h"]
    models = {r["model"] for r in report["results"]}
    assert models == {"tft", "naive", "seasonal_naive"}
    row = next(r for r in report["results"] if (r["model"], r["target"], r["horizon"]) ==
               ("tft", "cpu_pct", "1h"))
    assert row["n"] > 0 and row["mase"] > 0 and 0 <= row["coverage"] <= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fleet.csv", "home"]


def test_train_with_level_target(tmp_path: Path) -> None:
    data = tmp_path / "fleet.csv"
    synthetic_fleet(servers=2, days=2.2).to_csv(data, index=False)
    home = tmp_path / "home"
    trained = CliRunner().invoke(app, [
        "train", "--data", str(data), "--home", str(home), "--epochs", "1",
        "--batches-per-epoch", "2", "--hidden-size", "4", "--name", "levels", "--level-target",
        "--json",
    ], env={"ARGUS_MAX_MINUTES": "2"})
    assert trained.exit_code == 0, trained.output
    meta = json.loads((home / "models" / "levels" / "metadata.json").read_text())
    assert meta["config"]["seasonal_target"] is False
    assert json.loads(trained.stdout)["backtest"]["results"]  # it forecasts (and was scored)
