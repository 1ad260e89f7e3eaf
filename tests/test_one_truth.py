"""One level per server: the alert list, the tiles and the summary never disagree.

The main fixture runs a simulated incident tick by tick through a real daemon. Two memory leaks
start together (the `degrading` scenario, as `argus scenario` applies it): the one on ppapi001
runs to exhaustion and is then fixed (`argus scenario healthy`); the one on ppweb001 is fixed
while memory is still far from full, so its alert is never followed by a breach. After every
prediction cycle the alert list, the tiles, the summary counts and the Prometheus gauge are read
and must tell the same level for every server.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from argus.alerts import RANK
from argus.daemon.cycle import run_cycle
from argus.simulate import IncidentRates, Simulator
from argus.simulate.scenario import ScenarioRequest, apply_request
from argus.simulate.stream import FeedClient
from argus.thresholds import Level, level_for
from tests.factories import BASE_TIME, LiveDaemon, make_record

LEAK, FIXED_EARLY = "ppapi001", "ppweb001"
FIX_EARLY_AFTER = 12  # ticks: ppweb001's leak is fixed an hour in, at about 70 % memory
MAX_TICKS = 70
_RAISED = ("warning", "critical")
GAUGE = re.compile(r'^argus_alert_level\{server="([^"]+)"\} (\S+)$', re.M)


@dataclass(frozen=True)
class Cycle:
    """What the daemon served after one tick."""

    at: datetime
    predictions: dict[str, Any]
    alerts: dict[str, Any]
    gauge: dict[str, int]


@dataclass(frozen=True)
class Incident:
    cycles: list[Cycle]
    breach: datetime  # when ppapi001's memory first reached critical (the simulator's truth)
    early_breached: bool  # whether ppweb001's memory ever reached critical
    summary: dict[str, Any]
    history: dict[str, Any]


def _wait_for_cycle(daemon: LiveDaemon, at: datetime, timeout: float = 60.0) -> Cycle:
    """Poll until the daemon has published the cycle for data time `at`, then read it."""
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = daemon.get("/predictions/current")
        if resp.status_code == 200 and resp.json()["timestamp"].startswith(stamp):
            # prediction_interval_seconds is a day: no cycle runs again until the next tick
            gauge = {s: int(float(v)) for s, v in GAUGE.findall(daemon.get("/metrics").text)}
            return Cycle(at, resp.json(), daemon.get("/alerts/active").json(), gauge)
        time.sleep(0.05)
    raise AssertionError(f"no prediction cycle for {stamp} within {timeout} s")


def _tick(sim: Simulator, daemon: LiveDaemon, client: FeedClient, steps: int = 1) -> Cycle:
    at = sim.clock.at(sim.step + steps - 1)  # the newest sample of the batch
    client.post(sim.advance(steps).records())
    return _wait_for_cycle(daemon, at)


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> Incident:
    home = tmp_path_factory.mktemp("truth") / "home"
    env = {
        "ARGUS_CYCLE_CHECK_SECONDS": "0.1",
        "ARGUS_PREDICTION_INTERVAL_SECONDS": "86400",
        "ARGUS_RATE_LIMITS_ENABLED": "false",
    }
    daemon = LiveDaemon(home=home, extra_env=env).start()
    client = FeedClient(daemon.url, daemon.key)
    try:
        sim = Simulator.create(6, seed=3, rates=IncidentRates(per_server_day=0.0))
        _tick(sim, daemon, client, steps=2 * 288)  # two calm days of history
        apply_request(sim, ScenarioRequest("degrading", LEAK))
        apply_request(sim, ScenarioRequest("degrading", FIXED_EARLY))
        leak, early = sim.book.incidents.values()
        cycles, fixed_at = [], None
        for tick in range(MAX_TICKS):
            if tick == FIX_EARLY_AFTER:
                sim.book.end_at(early.id, sim.step)
            if fixed_at is None and leak.id in sim.breaches:
                fixed_at = tick
                apply_request(sim, ScenarioRequest("healthy"))  # someone restarts it
            cycles.append(_tick(sim, daemon, client))
            if fixed_at is not None and not cycles[-1].alerts["alerts"]:
                break
        cycles.append(_tick(sim, daemon, client, steps=96))  # eight quiet hours later
        return Incident(
            cycles,
            sim.clock.at(sim.breaches[leak.id]),
            early.id in sim.breaches,
            daemon.get("/historical/summary?time_range=1d").json(),
            daemon.get("/historical/alerts?time_range=1d").json(),
        )
    finally:
        client.close()
        daemon.stop()


def _tiles(cycle: Cycle) -> dict[str, str]:
    return {name: p["alert"]["level"] for name, p in cycle.predictions["predictions"].items()}


def test_alert_list_tiles_and_summary_agree_at_every_cycle(incident: Incident) -> None:
    assert len(incident.cycles) > 40  # a whole incident: the leak, its breach, the fix
    for cycle in incident.cycles:
        preds, alerts = cycle.predictions, cycle.alerts
        assert alerts["timestamp"] == preds["timestamp"], cycle.at
        tiles = _tiles(cycle)
        listed = {a["server_name"]: a for a in alerts["alerts"]}
        # every server with a non-healthy tile has an alert at that level, and no other has one
        assert {n: a["level"] for n, a in listed.items()} == {
            n: lvl for n, lvl in tiles.items() if lvl != "healthy"
        }, cycle.at
        assert [(a["server_name"], a["level"]) for a in preds["alerts"]] == [
            (a["server_name"], a["level"]) for a in alerts["alerts"]
        ], cycle.at
        counts = Counter(tiles.values())
        assert {lvl.value: preds["summary"][lvl.value] for lvl in Level} == {
            lvl.value: counts[lvl.value] for lvl in Level
        }, cycle.at
        assert cycle.gauge == {n: RANK[Level(lvl)] for n, lvl in tiles.items()}, cycle.at
        for name, tile in preds["predictions"].items():
            score, level = tile["risk_score"], Level(tile["alert"]["level"])
            assert RANK[level] >= RANK[level_for(score)], (cycle.at, name)  # never below
            assert tile["level_held"] == (level is not level_for(score)), (cycle.at, name)
            if name in listed:
                alert = listed[name]
                assert (alert["risk_score"], alert["level_held"], alert["message"]) == (
                    score,
                    tile["level_held"],
                    tile["message"],
                ), (cycle.at, name)


def _feed_step(client, step: int, memory: float) -> None:
    records = [
        make_record(name, BASE_TIME + timedelta(minutes=5 * step), mem_used_pct=mem)
        for name, mem in (("ppweb000", 50.0), ("ppweb001", memory))
    ]
    assert client.post("/feed/data", json={"records": records}).status_code == 200


def test_a_held_level_is_the_tiles_level_and_says_so(client, services) -> None:
    """Memory at 99 % for one bucket, then calm: the score drops at once, the level is held for
    the minimum dwell, and the tile, the list and the counts show the held level together."""
    for step in range(60):
        _feed_step(client, step, 50.0)
    shown = []
    for step, memory in enumerate([99.0, 50.0, 50.0, 50.0], start=60):
        _feed_step(client, step, memory)
        run_cycle(services)
        tile = client.get("/predictions/current").get_json()
        alerts = client.get("/alerts/active").get_json()["alerts"]
        hot = tile["predictions"]["ppweb001"]
        shown.append((hot["alert"]["level"], hot["level_held"], tile["summary"]["critical"],
                      [(a["level"], a["level_held"]) for a in alerts]))  # fmt: skip
        if hot["level_held"]:
            assert hot["risk_score"] < 80
    assert shown == [
        ("critical", False, 1, [("critical", False)]),
        ("critical", True, 1, [("critical", True)]),  # held: dwell is 3 cycles
        ("critical", True, 1, [("critical", True)]),
        ("healthy", False, 0, []),  # resolved
    ]


def test_a_memory_leak_raises_warning_then_critical_before_exhaustion(incident: Incident) -> None:
    levels = [(c.at, _tiles(c)[LEAK]) for c in incident.cycles if c.at < incident.breach]
    first = {lvl: next((at for at, seen in levels if seen == lvl), None) for lvl in _RAISED}
    warned, critical = first["warning"], first["critical"]
    assert warned is not None and critical is not None, levels
    assert warned < critical  # a warning first, critical as the breach closes in
    assert incident.breach - warned >= timedelta(minutes=60)
    assert incident.breach - critical >= timedelta(minutes=30)
    assert all(lvl in _RAISED for at, lvl in levels if at >= warned)  # it never lapses
    # after the fix the alert resolves: the last tick-by-tick cycle shows no alert at all
    assert _tiles(incident.cycles[-2])[LEAK] == "healthy"


def test_incidents_prevented_counts_the_forewarned_leak_and_not_the_false_alarm(
    incident: Incident,
) -> None:
    events = incident.history["events"]
    raised = {
        (e["server_name"], e["opened_at"])
        for e in events
        if e["event"] in ("new", "escalated") and e["level"] in _RAISED
    }
    assert {s for s, _ in raised} >= {LEAK, FIXED_EARLY}
    assert not incident.early_breached  # ppweb001's alert was not followed by a breach
    summary = incident.summary
    assert summary["incidents_prevented"] == 1  # ppapi001's leak, warned of hours ahead
    # every other raised alert (ppweb001's among them) had its 8 hours without a breach
    assert summary["alerts_without_breach"] == len(raised) - 1

