"""Cascade detection core: simulated incidents, daily peaks, the count rule and the bands."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from argus.cascade import (
    TRACKED_METRICS,
    CascadeSettings,
    MetricCube,
    cascade_risk,
    detect,
    find_groups,
    from_frame,
    from_grid,
    health_score,
    health_status,
    severity,
)
from argus.cascade.cube import STEPS_PER_DAY
from argus.cascade.episodes import track
from argus.cascade.result import Cascade, CascadeResult
from argus.cascade.rules import Group, consolidate
from argus.simulate import Simulator
from argus.simulate.dataset import block_frame
from argus.window import FleetWindow

DAY = STEPS_PER_DAY


def simulated_db_incident(servers: int = 30, seed: int = 1) -> tuple[MetricCube, str, int]:
    """Three calm days, then a database I/O storm that spreads; return cube, origin, onset index."""
    sim = Simulator.create(servers=servers, seed=seed)
    frames = [block_frame(sim.advance(3 * DAY))]
    origin = next(
        n for n, p in zip(sim.fleet.names, sim.fleet.profiles, strict=True) if p == "Database"
    )
    sim.inject_cascade(origin, "iowait_storm", 60)
    frames.append(block_frame(sim.advance(22)))  # the dependents are hit 85-110 min in
    return from_frame(pd.concat(frames, ignore_index=True), TRACKED_METRICS), origin, 3 * DAY


def test_database_incident_spreading_to_web_servers_is_a_cascade_from_the_database() -> None:
    cube, origin, _ = simulated_db_incident()
    result = detect(cube)
    assert result is not None and result.cascade_detected
    assert result.origin == origin and result.origin_profile == "Database"
    web = {s for s, p in zip(cube.servers, cube.profiles, strict=True) if p == "Web API"}
    assert len(web & set(result.affected_servers)) >= 2
    assert result.affected_servers[0] == origin
    assert any("Check " + origin in line for line in result.recommendations)
    assert result.cascade_risk == "high" and result.status != "healthy"


def test_a_client_hurt_long_after_its_api_server_began_to_leak_is_a_cascade_from_it() -> None:
    # The Web API server leaks connections for over two hours before it saturates; its
    # Generic clients are hurt minutes after that: onsets too far apart for the other rules.
    sim = Simulator.create(servers=30, seed=1)
    frames = [block_frame(sim.advance(3 * DAY))]
    sim.inject_cascade("ppapi001", "connection_leak", 120)
    found = None
    for _ in range(45):
        frames.append(block_frame(sim.advance(1)))
        cube = from_frame(pd.concat(frames, ignore_index=True), TRACKED_METRICS)
        found = detect(cube)
        if found is not None and found.cascade_detected:
            break
    assert found is not None and found.cascade_detected
    assert [c.rule for c in found.cascades] == ["dependency"]
    assert found.origin == "ppapi001" and found.origin_profile == "Web API"
    profile = dict(zip(cube.servers, cube.profiles, strict=True))
    assert {profile[s] for s in found.affected_servers[1:]} == {"Generic"}
    without = detect(cube, replace(CascadeSettings(), dependency_fresh_steps=0))
    assert without is not None and not without.cascade_detected


def test_the_dependency_rule_needs_an_upstream_far_gone_but_not_chronic() -> None:
    cfg = CascadeSettings()
    signal = np.zeros((cfg.window_size, 4, 2))
    signal[30:, 0, 0] = np.linspace(5.0, 40.0, cfg.window_size - 30)  # upstream, 70 steps
    signal[-3:, 1, 1] = 12.0  # its dependent, for the last 3 steps
    upstreams = ((), (0,), (), ())
    found = find_groups(signal, cfg, (), upstreams)
    assert [(g.rule, g.members) for g in found.groups] == [("dependency", (0, 1))]
    assert not find_groups(signal, cfg).groups  # no known dependency: onsets 5.6 h apart
    weak = signal.copy()
    weak[30:, 0, 0] = 6.0  # anomalous, but not far beyond the threshold
    assert not find_groups(weak, cfg, (), upstreams).groups
    chronic = signal.copy()
    chronic[:, 0, 0] = 40.0  # anomalous for the whole window: no onset to follow
    assert not find_groups(chronic, cfg, (), upstreams).groups
    blip = signal.copy()
    blip[-3:-1, 1, 1] = 0.0  # one step is not yet an anomaly of its own
    assert not find_groups(blip, cfg, (), upstreams).groups


def test_calm_fleet_before_the_incident_is_healthy() -> None:
    cube, _, onset = simulated_db_incident()
    result = detect(cube.head(onset))
    assert result is not None and not result.cascade_detected
    assert result.status == "healthy" and result.baseline == "seasonal"


def daily_peak_fleet(servers: int, days: int, spike_at: int | None = None) -> MetricCube:
    """Every server peaks at 09:00 daily (routine); optionally 4 servers spike at `spike_at`."""
    rng = np.random.default_rng(7)
    steps = days * DAY
    hour = (np.arange(steps) % DAY) / 12.0
    peak = 45.0 * np.exp(-(((hour - 9.0) / 1.5) ** 2))
    values = 20.0 + peak[:, None, None] + rng.normal(0, 1.5, (steps, servers, len(TRACKED_METRICS)))
    if spike_at is not None:
        values[spike_at:, :4, 0] += 40.0
    times = np.datetime64("2025-01-06T00:00", "m") + np.arange(steps) * np.timedelta64(5, "m")
    names = tuple(f"ppweb{i:03d}" for i in range(servers))
    return MetricCube(values, times, names, ("Web API",) * servers, TRACKED_METRICS)


def test_fleet_wide_daily_peak_is_not_a_cascade() -> None:
    cube = daily_peak_fleet(20, 4)
    for at_hour in (8.5, 9.0, 9.5):
        result = detect(cube.head(3 * DAY + int(at_hour * 12)))
        assert result is not None
        assert not result.cascade_detected, result.cascades
        assert result.servers_with_anomalies <= 1


def test_same_peak_on_four_servers_out_of_hours_is_a_cascade() -> None:
    spike = 3 * DAY + 15 * 12  # 15:00 on the fourth day
    result = detect(daily_peak_fleet(20, 4, spike_at=spike).head(spike + 6))
    assert result is not None and result.cascade_detected
    count = [c for c in result.cascades if c.rule == "count"]
    assert count and count[0].metric == "cpu_user_pct" and len(count[0].affected_servers) == 4
    assert count[0].severity == "high"  # 4 of 20 = 20 %


def two_profile_fleet(jumping: int) -> MetricCube:
    """12 Web API and 8 Risk Analytics servers; from 15:00 on the fourth day `jumping` of the
    risk servers run 12 points (about 8 of their sigmas) hotter: a batch that starts, on all of
    them a schedule."""
    cube = daily_peak_fleet(20, 4)
    cube.values[3 * DAY + 15 * 12 :, 12 : 12 + jumping, 0] += 12.0
    profiles = ("Web API",) * 12 + ("Risk Analytics",) * 8
    return MetricCube(cube.values, cube.times, cube.servers, profiles, cube.metrics)


def test_a_whole_profile_moving_together_is_its_schedule_not_a_cascade() -> None:
    at = 3 * DAY + 15 * 12 + 6
    whole = detect(two_profile_fleet(8).head(at))
    assert whole is not None and not whole.cascade_detected, whole.cascades
    against_fleet = replace(CascadeSettings(), profile_min_servers=0)
    fleet_only = detect(two_profile_fleet(8).head(at), against_fleet)
    assert fleet_only is not None and fleet_only.cascade_detected  # against the fleet: 8 of 20
    some = detect(two_profile_fleet(3).head(at))
    assert some is not None and some.cascade_detected  # 3 of 8: apart from their own profile
    assert len(some.affected_servers) == 3


def test_a_group_that_did_the_same_a_day_before_is_a_routine_not_a_cascade() -> None:
    cube = daily_peak_fleet(20, 6)
    for day in (4, 5):  # a job on four servers at 15:00, from the fifth day on
        at = day * DAY + 15 * 12
        cube.values[at : at + 12, :4, 0] += 40.0
    first = detect(cube.head(4 * DAY + 15 * 12 + 6))
    assert first is not None and first.cascade_detected  # the first time: nothing to compare
    again = detect(cube.head(5 * DAY + 15 * 12 + 6))
    assert again is not None and not again.cascade_detected
    assert again.servers_with_anomalies >= 4  # still anomalous, only not a cascade
    unchecked = replace(CascadeSettings(), recurrence_days=())
    off = detect(cube.head(5 * DAY + 15 * 12 + 6), unchecked)
    assert off is not None and off.cascade_detected  # without the check: a cascade again


def test_servers_that_often_spike_together_are_a_habit_not_a_cascade() -> None:
    cube = daily_peak_fleet(20, 5)
    for day, hour in ((1, 11), (2, 13), (3, 20)):  # together three times, each at another hour
        at = day * DAY + hour * 12
        cube.values[at : at + 6, :4, 0] += 40.0  # for half an hour
    spike = 4 * DAY + 15 * 12
    cube.values[spike:, :4, 0] += 40.0
    result = detect(cube.head(spike + 6))
    assert result is not None and not result.cascade_detected, result.cascades
    assert result.servers_with_anomalies >= 4
    unchecked = detect(cube.head(spike + 6), replace(CascadeSettings(), habit_episodes=0))
    assert unchecked is not None and unchecked.cascade_detected
    twice = detect(cube.head(spike + 6), replace(CascadeSettings(), habit_episodes=4))
    assert twice is not None and twice.cascade_detected  # three times is not four


def test_a_habit_is_half_the_group_together_on_the_same_metric() -> None:
    cfg = CascadeSettings()
    signal = np.zeros((cfg.window_size, 10, 2))
    signal[-5:, :4, 1] = 9.0  # four servers, same metric, same onset

    def past(times: int, servers: int, metric: int) -> np.ndarray:
        """The four's own signal over the days before: `servers` of them anomalous together
        on `metric`, `times` times."""
        out = np.zeros((cfg.habit_days * DAY, 4, 2))
        for k in range(times):
            out[100 * k : 100 * k + 5, :servers, metric] = 9.0
        return out

    def groups(own: np.ndarray) -> tuple:
        return find_groups(signal, cfg, own_past=lambda members: own).groups

    k = cfg.habit_episodes
    assert not groups(past(k, 2, 1))  # half of them together, k times: a habit
    assert groups(past(k, 1, 1))  # one server alone
    assert groups(past(k, 4, 0))  # another metric
    assert groups(past(k - 1, 4, 1))  # not often enough


def test_a_group_recurs_only_if_half_its_members_were_there_before() -> None:
    cfg = CascadeSettings()
    signal = np.zeros((cfg.window_size, 10, 2))
    signal[-5:, :4, 1] = 9.0  # four servers, same metric, same onset
    earlier = np.zeros((2 * cfg.slot_halfwidth + 1, 10, 2))
    earlier[2:4, 0, 1] = 9.0  # one of them the same time a day before: not a routine
    assert find_groups(signal, cfg, [earlier]).groups
    earlier[:, 1, 1] = 9.0  # two of four: half the group did the same
    assert not find_groups(signal, cfg, [earlier]).groups
    earlier[:, :2, 0] = 9.0
    earlier[:, :2, 1] = 0.0  # the same servers, another metric: not the same thing
    assert find_groups(signal, cfg, [earlier]).groups


def test_two_servers_never_satisfy_the_count_rule() -> None:
    cfg = CascadeSettings()
    signal = np.zeros((cfg.window_size, 10, 3))
    signal[-5:, :2, 1] = 9.0  # two servers, same metric, same onset
    groups = find_groups(signal, cfg).groups
    assert not [g for g in groups if g.rule == "count"]
    signal[-5:, 2, 1] = 9.0
    assert [g.members for g in find_groups(signal, cfg).groups if g.rule == "count"] == [(0, 1, 2)]


def test_onsets_far_apart_are_not_counted_together() -> None:
    cfg = CascadeSettings()
    signal = np.zeros((cfg.window_size, 10, 1))
    for server, onset in ((0, 10), (1, 40), (2, 80)):  # 2.5 h and 3.3 h apart
        signal[onset:, server, 0] = 9.0 + server
    assert not [g for g in find_groups(signal, cfg).groups if g.rule == "count"]


def test_correlated_anomalies_that_began_hours_apart_are_not_one_cascade() -> None:
    cfg = CascadeSettings()
    t = np.arange(cfg.window_size, dtype=float)
    signal = np.zeros((cfg.window_size, 10, 2))
    # Two climbs that correlate (0.88) over the window, the second anomalous 55 steps
    # (4.6 h) after the first: two incidents, not one spreading.
    signal[5:, 0, 0] = 5 + 0.2 * t[5:]
    signal[:, 1, 1] = np.where(t < 60, 0.06 * t, 5 + 0.2 * t)
    found = find_groups(signal, cfg)
    assert found.correlation_score >= cfg.correlation and not found.groups
    assert [g.members for g in find_groups(signal, replace(cfg, onset_spread_steps=60)).groups] == [
        (0, 1)
    ]


def test_the_window_grid_and_frames_give_the_same_cube() -> None:
    rows = [
        {"timestamp": datetime(2025, 1, 1, 0, 5 * i), "server_name": n, "profile": "Database"}
        | {m: float(i + k) for k, m in enumerate(TRACKED_METRICS)}
        for i in (0, 1, 3)
        for n in ("ppdb002", "ppdb001")
    ]
    window = FleetWindow(capacity=100)
    window.add(rows)
    a = from_grid(window.grid(), TRACKED_METRICS)
    b = from_frame(pd.DataFrame(rows), TRACKED_METRICS)
    assert a.servers == b.servers == ("ppdb001", "ppdb002") and a.steps == 4  # the gap is a row
    assert a.profiles == b.profiles == ("Database", "Database")
    assert np.isnan(a.values[2]).all()
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.times, b.times)
    reversed_window = FleetWindow(capacity=100)
    reversed_window.add(rows[::-1])  # arrival order does not matter
    c = from_grid(reversed_window.grid(), TRACKED_METRICS)
    np.testing.assert_array_equal(c.values, a.values)
    np.testing.assert_array_equal(c.times, a.times)


@pytest.mark.parametrize(
    ("score", "status"),
    [(100, "healthy"), (80, "healthy"), (79.9, "degraded"), (60, "degraded"), (59.9, "warning"),
     (40, "warning"), (39.9, "critical"), (0, "critical")],
)  # fmt: skip
def test_health_status_bands(score: float, status: str) -> None:
    assert health_status(score) == status


def test_cascade_risk_and_severity_bands() -> None:
    assert [cascade_risk(c) for c in (0.0, 0.49, 0.5, 0.7, 0.71, 1.0)] == [
        "low", "low", "medium", "medium", "high", "high"
    ]  # fmt: skip
    assert [severity(n, 45) for n in (1, 3, 7, 16, 45)] == [
        "low", "medium", "high", "critical", "critical"
    ]  # fmt: skip
    assert health_score(0.0, 0.0) == 100.0
    assert math.isclose(health_score(0.1, 0.3), 76.5)
    assert health_score(1.0, 1.0) == 0.0


def _detected(
    at: datetime, *groups: tuple[str, ...], linked: tuple[tuple[str, int], ...] = ()
) -> CascadeResult:
    """A detection at `at` of count-rule groups whose servers' onsets follow the listed order."""
    cascades = tuple(
        Cascade("mem_used_pct", g, "medium", "count", 0.9, (at,) * len(g)) for g in groups
    )
    servers = tuple(dict.fromkeys([s for s, _ in linked] + [s for g in groups for s in g]))
    profiles = tuple("Database" if s.startswith("ppdb") else "Web API" for s in servers)
    return CascadeResult(
        at, 45, servers, 0.9, cascades, servers, servers[0], profiles[0], (), 60.0, "degraded",
        "high", "seasonal", affected_profiles=profiles, linked=linked,
    )  # fmt: skip


def test_an_unrelated_group_beside_an_open_episode_is_its_own_episode() -> None:
    cfg, t0 = CascadeSettings(), datetime(2025, 1, 15, 6, 35)
    pair = track((), _detected(t0, ("ppapi001", "ppweb003")), cfg)
    assert [v.new for v in pair.views] == [True] and pair.views[0].origin == "ppapi001"
    # Still going at 11:20 when a database cascade begins; a correlation pair ties one of its
    # servers to one of the leaks: one shared server, not a continuation.
    at, step = datetime(2025, 1, 15, 11, 20), timedelta(minutes=5)
    earlier = replace(pair.episodes[0], last_seen=at - step)
    storm = ("ppdb001", "ppweb002", "pprisk001")
    both = track((earlier,), _detected(at, ("ppapi001", "ppweb003"), storm), cfg)
    assert [(e.start, e.last_seen) for e in both.episodes] == [(t0, at), (at, at)]
    old, new = both.views
    assert not old.new and old.affected_servers == ("ppapi001", "ppweb003")
    assert new.new and new.episode.start == at and new.origin == "ppdb001"
    assert new.recommendations[0].startswith("Check ppdb001 (Database) first")
    spread = ("ppdb001", "ppweb002", "pprisk001", "ppapi001")
    later = track(both.episodes, _detected(at + step, ("ppweb003", "ppapi001"), spread), cfg)
    assert [(v.episode.start, v.grew) for v in later.views] == [(t0, False), (at, True)]


def test_a_spreading_cascade_continues_its_episode_until_it_ends() -> None:
    cfg, t0 = CascadeSettings(), datetime(2025, 1, 15, 11, 20)
    step = timedelta(minutes=5)
    first = track((), _detected(t0, ("ppdb001", "ppweb002")), cfg)
    spread = track(first.episodes, _detected(t0 + step, ("ppdb001", "ppweb002", "pprisk001")), cfg)
    (view,) = spread.views
    assert not view.new and view.grew and view.episode.start == t0
    assert view.affected_servers == ("ppdb001", "ppweb002", "pprisk001")
    # Seen 30 minutes later it goes on; after a longer silence the same servers are a new one.
    gap = step * cfg.episode_gap_steps
    again = track(spread.episodes, _detected(t0 + step + gap, ("ppdb001", "ppweb002")), cfg)
    assert [v.episode.start for v in again.views] == [t0] and not again.views[0].grew
    later = t0 + step + 2 * gap + step
    closed = track(again.episodes, _detected(later, ("ppdb001", "ppweb002")), cfg)
    assert [e.start for e in closed.episodes] == [later] and closed.views[0].new
    assert (
        track(closed.episodes, replace(_detected(later, ("x", "y")), cascades=()), cfg).views == ()
    )


def test_a_server_of_another_open_episode_is_not_linked_into_a_new_one() -> None:
    cfg, t0 = CascadeSettings(), datetime(2025, 1, 15, 11, 20)
    pair = track((), _detected(t0, ("ppweb003", "ppapi001")), cfg)
    later = _detected(t0 + timedelta(minutes=5), ("ppdb001", "ppweb002"), linked=(("ppweb003", 0),))
    (new,) = [v for v in track(pair.episodes, later, cfg).views if v.new]
    assert new.origin == "ppdb001" and "ppweb003" not in new.affected_servers
    alone = track((), later, cfg).views[0]  # with no other episode it is the detector's origin
    assert alone.origin == "ppweb003"


def test_the_current_list_names_each_group_once() -> None:
    def group(rule: str, members: tuple[int, ...], metric: int = 0) -> Group:
        return Group(rule, metric, members, tuple(range(len(members))), 0.8)

    found = [
        group("count", (4, 1, 6)),
        group("correlation", (4, 6)),  # inside the count group
        group("correlation", (1, 6, 4)),  # the count group again
        group("dependency", (0, 2)),
        group("dependency", (0, 1), metric=1),
        group("dependency", (0, 4)),
        group("dependency", (3, 5)),
    ]
    kept = consolidate(found)
    assert [(g.rule, g.members) for g in kept] == [
        ("count", (4, 1, 6)), ("dependency", (0, 1, 2, 4)), ("dependency", (3, 5)),
    ]  # fmt: skip
    assert kept[1].metric == 0  # the most common of the pairs' metrics
