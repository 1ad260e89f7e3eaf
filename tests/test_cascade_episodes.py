"""Cascade episodes through a real daemon. Two connection leaks pair up; later `argus scenario
cascade` starts a database storm while an earlier group that shares a server with it is still
open (one of the leaking web servers, correlated with the database). The storm is still its own
episode, with its own start and its origin, and each detection names each group once."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from argus.simulate import Simulator
from argus.simulate.stream import FeedClient, StreamStats, apply_control, send_records
from tests.factories import LiveDaemon, argus_command

DAY = 288
PAIR = ("ppapi001", "ppweb003")  # ppapi001 is also a client of the storm's database
DATABASE = "ppdb001"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveDaemon]:
    env = {"ARGUS_CYCLE_CHECK_SECONDS": "0.2", "ARGUS_RATE_LIMITS_ENABLED": "false"}
    daemon = LiveDaemon(home=tmp_path / "home", extra_env=env).start()
    yield daemon
    daemon.stop()


def _detected_at(live: LiveDaemon, bucket: datetime, timeout: float = 60.0) -> dict:
    """Wait for the daemon's cascade detection of `bucket` (its cycle runs on each new bucket)."""
    want = bucket.strftime("%Y-%m-%dT%H:%M:%S")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = live.get("/cascade/status")
        if resp.status_code == 200 and resp.json()["current_status"]["timestamp"].startswith(want):
            return resp.json()
        time.sleep(0.1)
    raise AssertionError(f"no cascade detection of {want} within {timeout} s")


def _send(sim: Simulator, client: FeedClient, live: LiveDaemon, steps: int) -> dict:
    """Apply a pending `argus scenario` as the demo's streamer does, send the next `steps`
    samples in one batch and wait for the detection of the newest (one tick: `steps` 1)."""
    apply_control(sim, live.home, lambda _line: None)
    send_records(client, sim.advance(steps).records(), StreamStats())
    return _detected_at(live, sim.clock.at(sim.step - 1))


def test_a_cascade_beside_an_open_unrelated_episode_is_its_own_episode(live: LiveDaemon) -> None:
    sim = Simulator.create(servers=45, seed=0)
    client = FeedClient(live.url, live.key)
    send_records(client, sim.advance(2 * DAY).records(), StreamStats())
    for server in PAIR:  # two connection leaks that begin together: a pair of the correlation rule
        sim.inject(server, "connection_leak", 180)
    # Detections of single ticks where it matters, a batch of ticks (one detection) in between.
    before = [_send(sim, client, live, 5), *(_send(sim, client, live, 1) for _ in range(3))]
    assert before[-1]["current_status"]["cascade_detected"]
    opened = [e for e in before[-1]["recent_events"] if set(e["affected_servers"]) == set(PAIR)]
    assert len(opened) == 1 and opened[0]["ongoing"]

    scenario_at = sim.now().replace(tzinfo=None)
    asked = subprocess.run(
        argus_command("scenario", "cascade", "--server", DATABASE, "--home", str(live.home)),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    after = [_send(sim, client, live, 1), _send(sim, client, live, 9)]
    after += [_send(sim, client, live, 1) for _ in range(4)]
    client.close()

    status = after[-1]
    events = status["recent_events"]
    pair = [e for e in events if set(e["affected_servers"]) == set(PAIR)]
    assert len(pair) == 1 and pair[0]["timestamp"] < scenario_at.isoformat()
    storm = [e for e in events if e["origin"] == DATABASE]
    assert len(storm) == 1, events
    (storm_event,) = storm
    # Its own start (not the pair's), its origin first, its dependents after it.
    assert storm_event["timestamp"] > scenario_at.isoformat()
    assert storm_event["affected_servers"][0] == DATABASE
    assert {"ppweb002", "pprisk001"} <= set(storm_event["affected_servers"])
    assert storm_event["last_seen"] >= storm_event["timestamp"] and storm_event["ongoing"]
    assert not pair[0]["ongoing"]  # the leaks' pair has not been seen for over 30 minutes
    assert status["event_count"] == len(events) >= 2
    # When the storm's episode opened, an earlier one naming one of its servers was still open.
    opening = next(s for s in after if any(e["origin"] == DATABASE for e in s["recent_events"]))
    beside = [
        e
        for e in opening["recent_events"]
        if e["ongoing"] and e["timestamp"] < storm_event["timestamp"]
        and set(e["affected_servers"]) & set(storm_event["affected_servers"])
    ]  # fmt: skip
    assert beside, opening["recent_events"]

    # `argus cascade` gives each open incident its own advice: the storm's names the database.
    shown = subprocess.run(
        argus_command("cascade"), capture_output=True, text=True, timeout=60,
        env={**os.environ, "ARGUS_URL": live.url, "ARGUS_API_KEY": live.key, "COLUMNS": "200"},
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    since = f"Episode since {storm_event['timestamp']}, origin {DATABASE}:"
    assert since in shown.stdout, shown.stdout
    advice = shown.stdout.split(since, 1)[1].lstrip().splitlines()[0]
    assert advice.startswith(f"- Check {DATABASE} (Database) first"), shown.stdout

    # Each detection names each group once: no group inside another, one per upstream.
    for seen in (*before, *after):
        groups = [set(c["affected_servers"]) for c in seen["current_status"]["cascades"]]
        assert not [
            a for i, a in enumerate(groups) for j, b in enumerate(groups) if i != j and a <= b
        ]
        upstreams = [
            c["affected_servers"][0]
            for c in seen["current_status"]["cascades"]
            if c["rule"] == "dependency"
        ]
        assert len(upstreams) == len(set(upstreams))
