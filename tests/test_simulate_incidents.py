"""Incident and cascade ground truth matches what the simulated data shows."""

from __future__ import annotations

import pytest

from argus.catalogue import STEP_MINUTES
from argus.simulate import DEPENDENCIES, KINDS, IncidentRates, Simulation, Simulator, simulate_fleet
from argus.simulate.cascades import UPSTREAM_PROFILES
from argus.thresholds import THRESHOLDS, threshold_for


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return simulate_fleet(servers=45, days=5, seed=11, rates=IncidentRates(per_server_day=0.3))


def _positions(sim: Simulation) -> tuple[dict[str, int], dict[str, int]]:
    index = {n: i for i, n in enumerate(sim.block.names)}
    stamps = {t: k for k, t in enumerate(sim.block.timestamps())}
    return index, stamps


def test_every_kind_happens(sim: Simulation) -> None:
    assert {label.kind for label in sim.labels.incidents} == set(KINDS)
    assert {label.metric for label in sim.labels.incidents} <= set(THRESHOLDS)


def test_breach_is_the_first_critical_sample_after_onset(sim: Simulation) -> None:
    index, stamps = _positions(sim)
    for label in sim.labels.incidents:
        critical = threshold_for(label.metric, label.profile).critical
        assert label.critical == critical
        values = sim.block.metric(label.metric, index[label.server])
        onset, end = stamps[label.onset], stamps[label.end]
        assert onset < end
        if label.breach is None:
            assert label.strength < 1.0, label  # only partial cascade hits may stay below
            assert values[onset : end + 1].max() < critical
            continue
        breach = stamps[label.breach]
        assert values[breach] >= critical, label
        assert values[onset - 1 : breach].max() < critical, label
        assert label.lead_minutes == (breach - onset) * STEP_MINUTES


def test_natural_incidents_give_hours_of_warning(sim: Simulation) -> None:
    leads = [i.lead_minutes for i in sim.labels.incidents if i.cause == "natural"]
    assert leads and all(lead is not None and 50 <= lead <= 420 for lead in leads)


def test_incidents_end_and_the_server_recovers(sim: Simulation) -> None:
    index, stamps = _positions(sim)
    for label in sim.labels.incidents:
        if label.kind in ("memory_leak", "disk_fill", "cpu_runaway", "connection_leak"):
            after = sim.block.metric(label.metric, index[label.server])[stamps[label.end]]
            assert after < label.critical, label


def test_cascades_reach_dependents_after_their_origin(sim: Simulation) -> None:
    assert sim.labels.cascades
    fleet = sim.fleet
    by_id = {i.id: i for i in sim.labels.incidents}
    for cascade in sim.labels.cascades:
        origin = fleet.index(cascade.origin_server)
        assert fleet.profiles[origin] in UPSTREAM_PROFILES
        assert cascade.origin_breach is not None
        assert by_id[cascade.origin_incident].cascade_id == cascade.id
        for hit in cascade.affected:
            assert origin in fleet.upstreams[fleet.index(hit.server)]
            assert hit.onset > cascade.origin_breach
            assert hit.breach is None or hit.breach > cascade.origin_breach
            assert 0 < hit.lag_minutes <= 30
            assert by_id[hit.incident_id].cause == "cascade"


def test_dependency_table_is_consistent() -> None:
    for dep in DEPENDENCIES:
        assert dep.effect in KINDS
        assert dep.upstream != dep.downstream
        assert 0 < dep.lag_minutes[0] <= dep.lag_minutes[1] <= 30
        assert 0 < dep.strength[0] <= dep.strength[1] <= 1
    # One hop only: a dependent never feeds trouble back to its own upstream.
    edges = {(d.upstream, d.downstream) for d in DEPENDENCIES}
    assert not any((down, up) in edges for up, down in edges)


def test_injected_incident_breaches_in_the_requested_time() -> None:
    sim = Simulator.create(servers=12, seed=1)
    sim.advance(24)
    incident = sim.inject("ppapi001", "memory_leak", lead_minutes=35)
    sim.advance(30)
    (label,) = [i for i in sim.labels().incidents if i.id == incident.id]
    assert label.cause == "injected"
    assert label.lead_minutes is not None and 20 <= label.lead_minutes <= 50


def test_end_injected_stops_incidents_that_are_under_way() -> None:
    sim = Simulator.create(servers=12, seed=2)
    sim.advance(12)
    incident = sim.inject("ppapi001", "memory_leak", lead_minutes=180)
    sim.advance(6)
    assert sim.end_injected() == [incident.id]
    block = sim.advance(24)
    (label,) = [i for i in sim.labels().incidents if i.id == incident.id]
    assert label.breach is None
    assert block.metric("mem_pct", sim.fleet.index("ppapi001")).max() < 90
