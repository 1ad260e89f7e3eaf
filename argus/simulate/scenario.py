"""Scenario control: `argus scenario` drops a small JSON file that the running demo applies."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from argus.simulate.fleet import Fleet
from argus.simulate.labels import iso
from argus.simulate.simulator import Simulator

CONTROL_FILE = "demo-scenario.json"


@dataclass(frozen=True)
class ScenarioSpec:
    """What a scenario injects."""

    kind: str | None  # None: end injected incidents instead of starting one
    lead_minutes: float
    spreads: bool
    default_profile: str
    description: str


# The one table of scenarios.
SCENARIOS: dict[str, ScenarioSpec] = {
    "healthy": ScenarioSpec(None, 0, False, "", "end every injected incident"),
    "degrading": ScenarioSpec(
        "memory_leak", 180, False, "Web API", "slow memory leak, breaches in about 3 hours"
    ),
    "critical": ScenarioSpec(
        "memory_leak", 35, False, "Web API", "fast memory leak, breaches in about 35 minutes"
    ),
    "cascade": ScenarioSpec(
        "iowait_storm",
        30,
        True,
        "Database",
        "database I/O storm that spreads to its web/API, ETL and risk dependents",
    ),
}


@dataclass(frozen=True)
class ScenarioRequest:
    """A scenario asked for by `argus scenario`."""

    name: str
    server: str | None = None


def control_path(home: Path) -> Path:
    return home / CONTROL_FILE


def write_request(home: Path, request: ScenarioRequest) -> Path:
    """Write the control file atomically so the streamer never reads half of it."""
    if request.name not in SCENARIOS:
        raise ValueError(f"unknown scenario {request.name!r}; choose from {', '.join(SCENARIOS)}")
    home.mkdir(parents=True, exist_ok=True)
    path = control_path(home)
    tmp = path.with_name(path.name + ".tmp")
    body = {
        "scenario": request.name,
        "server": request.server,
        "requested_at": iso(datetime.now(UTC)),
    }
    tmp.write_text(json.dumps(body) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def take_request(home: Path) -> ScenarioRequest | None:
    """Read and remove the control file; a malformed one is removed and reported."""
    path = control_path(home)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    path.unlink(missing_ok=True)
    try:
        body = json.loads(text)
        name, server = body["scenario"], body.get("server")
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"ignored malformed {path.name}: {exc}") from None
    if name not in SCENARIOS or not (server is None or isinstance(server, str)):
        raise ValueError(f"ignored {path.name}: unknown scenario {name!r}")
    return ScenarioRequest(name, server)


def _default_server(fleet: Fleet, spec: ScenarioSpec) -> str:
    candidates = [i for i, p in enumerate(fleet.profiles) if p == spec.default_profile]
    if spec.spreads:
        # The upstream with the most dependents makes the clearest cascade.
        candidates.sort(key=lambda i: -len(fleet.dependents(i)))
    return fleet.names[candidates[0] if candidates else 0]


def apply_request(sim: Simulator, request: ScenarioRequest) -> str:
    """Apply a scenario to the simulator at its next sample; return what was done."""
    spec = SCENARIOS[request.name]
    at = iso(sim.now())
    if spec.kind is None:
        ended = sim.end_injected()
        return f"scenario healthy at {at}: ended {len(ended)} injected incident(s)"
    server = request.server or _default_server(sim.fleet, spec)
    if spec.spreads:
        if not sim.fleet.dependents(sim.fleet.index(server)):
            raise ValueError(f"{server} has no dependents to cascade to")
        hit = sim.inject_cascade(server, spec.kind, spec.lead_minutes)
        others = ", ".join(sim.fleet.names[i.server] for i in hit[1:]) or "none"
        return (
            f"scenario cascade at {at}: {spec.kind} on {server} "
            f"({hit[0].id}), spreading to {others}"
        )
    inc = sim.inject(server, spec.kind, spec.lead_minutes)
    return (
        f"scenario {request.name} at {at}: {spec.kind} on {server} ({inc.id}), {spec.description}"
    )
