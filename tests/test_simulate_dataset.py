"""The dataset writer: feed-schema files that round-trip, byte-identical for a seed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from argus.records import FeedBatch
from argus.simulate import COLUMNS, IncidentRates, simulate_fleet
from argus.simulate.dataset import frame_records, read_dataset, write_dataset

RATES = IncidentRates(per_server_day=0.5)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_dataset_round_trips(tmp_path: Path, fmt: str) -> None:
    sim = simulate_fleet(servers=10, days=1.5, seed=5, rates=RATES)
    paths = write_dataset(sim, tmp_path, fmt)  # type: ignore[arg-type]
    assert paths["metrics"].name == f"metrics.{fmt}"
    frame, labels = read_dataset(tmp_path)
    assert list(frame.columns) == list(COLUMNS)
    records = frame_records(frame)
    assert records == sim.block.records()
    FeedBatch(records=records)
    assert labels["incidents"] == json.loads(json.dumps(sim.labels.to_dict()))["incidents"]
    assert labels["seed"] == 5
    assert labels["start"] == records[0]["timestamp"]
    assert [s["name"] for s in labels["servers"]] == list(sim.fleet.names)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_same_seed_writes_identical_bytes(tmp_path: Path, fmt: str) -> None:
    for name in ("a", "b"):
        sim = simulate_fleet(servers=6, days=1, seed=9, rates=RATES)
        write_dataset(sim, tmp_path / name, fmt)  # type: ignore[arg-type]
    for file in (f"metrics.{fmt}", "labels.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_simulate_command_writes_a_dataset(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    result = subprocess.run(
        [sys.executable, "-c", "from argus.cli.main import main; main()", "simulate",
         "--servers", "5", "--days", "0.5", "--seed", "2", "--format", "csv",
         "--out", str(out)],
        capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin", "ARGUS_SIM_INCIDENT_RATE": "0",
             "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert result.returncode == 0, result.stderr
    frame, labels = read_dataset(out)
    assert len(frame) == 5 * 144
    assert labels["incidents"] == []
    assert labels["rates"]["per_server_day"] == 0.0  # taken from the environment
