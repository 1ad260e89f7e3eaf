"""The dependency graph between profiles: how trouble upstream reaches its dependents."""

from __future__ import annotations

from dataclasses import dataclass

from argus.catalogue import GENERIC_PROFILE

Range = tuple[float, float]


@dataclass(frozen=True)
class Dependency:
    """Servers of `downstream` use a server of `upstream`; its incidents spill over."""

    upstream: str
    downstream: str
    effect: str  # incident kind the dependent shows
    lag_minutes: Range  # from the upstream reaching saturation to the dependent's onset
    strength: Range  # 1.0: the dependent's metric goes as far as a full incident of its kind
    why: str


# The one table of the graph. Cascades go one hop: a dependent's trouble does not spread further.
DEPENDENCIES: tuple[Dependency, ...] = (
    Dependency(
        "Database",
        "Web API",
        "connection_leak",
        (2, 10),
        (0.7, 1.0),
        "requests to a stalled database pile up as half-closed back-end sockets",
    ),
    Dependency(
        "Database",
        "ETL/Ingest",
        "iowait_storm",
        (5, 20),
        (0.6, 1.0),
        "bulk loads block on a slow database and spill to local disk",
    ),
    Dependency(
        "Database",
        "Risk Analytics",
        "connection_leak",
        (5, 15),
        (0.5, 0.9),
        "risk jobs hold database connections that never complete",
    ),
    Dependency(
        "Conductor Mgmt",
        "ETL/Ingest",
        "cpu_runaway",
        (10, 30),
        (0.6, 1.0),
        "a sick scheduler re-dispatches jobs; retries burn CPU",
    ),
    Dependency(
        "Conductor Mgmt",
        "ML Compute",
        "connection_leak",
        (10, 30),
        (0.4, 0.8),
        "training workers keep dead control connections open",
    ),
    Dependency(
        "Web API",
        GENERIC_PROFILE,
        "connection_leak",
        (5, 30),
        (0.3, 0.7),
        "generic clients of the API wait on hung front ends",
    ),
)

# Upstream profiles, for callers that pick a cascade origin.
UPSTREAM_PROFILES: tuple[str, ...] = tuple(dict.fromkeys(d.upstream for d in DEPENDENCIES))


def dependency(upstream: str, downstream: str) -> Dependency | None:
    """Return the edge from `upstream` to `downstream`, if the graph has one."""
    for dep in DEPENDENCIES:
        if dep.upstream == upstream and dep.downstream == downstream:
            return dep
    return None
