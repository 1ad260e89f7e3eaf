"""The simulated fleet: determinism, schema and physical consistency of every sample."""

from __future__ import annotations

import numpy as np
import pytest

from argus.catalogue import PROFILES, STATUSES, profile_for
from argus.records import FeedBatch
from argus.simulate import IncidentRates, Simulation, fleet_names, simulate_fleet
from argus.simulate.signals import SWAP_PRESSURE_PCT


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return simulate_fleet(servers=45, days=4, seed=7, rates=IncidentRates(per_server_day=0.25))


def test_same_seed_gives_identical_records() -> None:
    first = simulate_fleet(servers=8, days=1, seed=3).block.records()
    again = simulate_fleet(servers=8, days=1, seed=3).block.records()
    other = simulate_fleet(servers=8, days=1, seed=4).block.records()
    assert first == again
    assert first != other


def test_default_fleet_covers_every_profile() -> None:
    names = fleet_names(45)
    assert len(names) == len(set(names)) == 45
    assert {profile_for(n) for n in names} == set(PROFILES)
    assert {"ppdb001", "ppml001", "ppapi001", "ppweb001", "ppcond001", "ppetl001",
            "pprisk001", "ppgen001"} <= set(names)


def test_every_record_validates(sim: Simulation) -> None:
    records = sim.block.records()
    assert len(records) == 45 * 4 * 288
    FeedBatch(records=records)
    first = records[0]
    for field in ("back_close_wait", "front_close_wait", "uptime_days"):
        assert type(first[field]) is int
    assert {r["status"] for r in records} <= set(STATUSES)
    assert {r["profile"] for r in records} == set(PROFILES)
    # Generic servers do not report disk I/O; the others always do.
    assert all(("disk_io_mb_s" in r) == (r["profile"] != "Generic") for r in records[:45])


def test_samples_are_on_the_five_minute_grid(sim: Simulation) -> None:
    assert np.all(np.diff(sim.block.minutes) == 5)
    assert sim.block.timestamps()[0] == "2025-01-06T00:00:00Z"


def test_cpu_shares_add_up_to_exactly_100(sim: Simulation) -> None:
    col = sim.block.columns
    parts = ("cpu_user_pct", "cpu_sys_pct", "cpu_iowait_pct", "cpu_idle_pct")
    hundredths = sum(np.round(col[p] * 100).astype(np.int64) for p in parts)
    assert np.all(hundredths == 10000)
    assert np.max(np.abs(sum(col[p] for p in parts) - 100.0)) < 1e-9
    assert np.all(col["java_cpu_pct"] <= col["cpu_user_pct"])


def test_swap_grows_only_under_memory_pressure(sim: Simulation) -> None:
    col = sim.block.columns
    grew = np.diff(col["swap_used_pct"], axis=0) > 0
    assert grew.any()
    assert np.all(col["mem_used_pct"][1:][grew] >= SWAP_PRESSURE_PCT)


def test_load_follows_cpu(sim: Simulation) -> None:
    cpu = 100.0 - sim.block.columns["cpu_idle_pct"]
    load = sim.block.columns["load_average"]
    corr = [np.corrcoef(cpu[:, i], load[:, i])[0, 1] for i in range(cpu.shape[1])]
    assert min(corr) > 0.8


def test_uptime_counts_up_and_resets_on_reboot(sim: Simulation) -> None:
    up = sim.block.columns["uptime_days"]
    step = np.diff(up, axis=0)
    assert set(np.unique(step[step >= 0]).tolist()) <= {0, 1}
    resets = step < 0
    assert resets.any()
    assert np.all(up[1:][resets] == 0)
    assert np.all(sim.block.columns["status"][1:][resets] == "maintenance")


def test_disk_grows_slowly_and_drops_only_on_cleanups(sim: Simulation) -> None:
    disk = sim.block.columns["disk_usage_pct"]
    change = np.diff(disk, axis=0)
    assert np.all(change[change < 0] <= -0.45)  # a clean-up frees at least half a point
    filling = np.zeros_like(disk, dtype=bool)
    index = {n: i for i, n in enumerate(sim.block.names)}
    stamps = {t: k for k, t in enumerate(sim.block.timestamps())}
    for label in sim.labels.incidents:
        if label.kind == "disk_fill":
            filling[stamps[label.onset] : stamps[label.end] + 1, index[label.server]] = True
    assert np.all(change[~filling[1:]] <= 0.05)


def test_daily_cycle_is_visible(sim: Simulation) -> None:
    cpu = 100.0 - sim.block.columns["cpu_idle_pct"]
    hour = (sim.block.minutes % 1440) // 60
    web = sim.block.names.index("ppapi001")
    assert cpu[(hour >= 12) & (hour < 15), web].mean() > cpu[hour < 4, web].mean() + 10


def test_noise_is_autocorrelated(sim: Simulation) -> None:
    mem = sim.block.columns["mem_used_pct"][:288]  # first day: before most incidents
    lag1 = [np.corrcoef(mem[1:, i], mem[:-1, i])[0, 1] for i in range(mem.shape[1])]
    assert np.median(lag1) > 0.7
