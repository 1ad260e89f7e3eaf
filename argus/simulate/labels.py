"""Ground truth: what happened where and when, as plain serialisable records."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argus.catalogue import STEP_MINUTES
from argus.simulate.fleet import Fleet
from argus.simulate.incidents import Incident
from argus.simulate.planner import Cascade
from argus.thresholds import threshold_for

LABELS_FORMAT = 1


def iso(moment: datetime) -> str:
    """Format a UTC time as ISO 8601 with a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Clock:
    """Map simulation steps to wall-clock times."""

    start: datetime  # time of step 0, UTC

    def at(self, step: int) -> datetime:
        return self.start + timedelta(minutes=STEP_MINUTES * step)

    def iso(self, step: int | None) -> str | None:
        return None if step is None else iso(self.at(step))


@dataclass(frozen=True)
class IncidentLabel:
    """One incident: where, what, and when it started, breached and was fixed."""

    id: str
    server: str
    profile: str
    kind: str
    metric: str
    critical: float
    onset: str
    breach: str | None  # first sample with metric >= critical; None: it never got there
    end: str  # first sample after the fix
    lead_minutes: int | None  # breach - onset
    cause: str  # natural, injected or cascade
    cascade_id: str | None
    strength: float
    reboot: bool


@dataclass(frozen=True)
class AffectedLabel:
    """A dependent server hit by a cascade."""

    server: str
    incident_id: str
    metric: str
    onset: str
    breach: str | None
    lag_minutes: int  # onset - the moment the origin saturated
    strength: float


@dataclass(frozen=True)
class CascadeLabel:
    """An incident that spread from its origin server to dependents."""

    id: str
    origin_server: str
    origin_incident: str
    origin_onset: str
    origin_breach: str | None
    affected: tuple[AffectedLabel, ...]


def incident_label(inc: Incident, fleet: Fleet, clock: Clock, breach: int | None) -> IncidentLabel:
    """Describe one incident with the breach step actually observed in the data."""
    profile = fleet.profiles[inc.server]
    return IncidentLabel(
        id=inc.id,
        server=fleet.names[inc.server],
        profile=profile,
        kind=inc.kind,
        metric=inc.spec.metric,
        critical=float(threshold_for(inc.spec.metric, profile).critical),
        onset=iso(clock.at(inc.onset)),
        breach=clock.iso(breach),
        end=iso(clock.at(inc.end)),
        lead_minutes=None if breach is None else (breach - inc.onset) * STEP_MINUTES,
        cause=inc.cause,
        cascade_id=inc.cascade_id,
        strength=round(inc.strength, 3),
        reboot=inc.reboot,
    )


def cascade_label(
    cascade: Cascade,
    incidents: dict[str, Incident],
    fleet: Fleet,
    clock: Clock,
    breaches: dict[str, int],
) -> CascadeLabel:
    """Describe a cascade: its origin and each dependent with its own times."""
    origin = incidents[cascade.origin]
    affected = tuple(
        AffectedLabel(
            server=fleet.names[incidents[member].server],
            incident_id=member,
            metric=incidents[member].spec.metric,
            onset=iso(clock.at(incidents[member].onset)),
            breach=clock.iso(breaches.get(member)),
            lag_minutes=lag * STEP_MINUTES,
            strength=round(incidents[member].strength, 3),
        )
        for member, lag in cascade.members
    )
    return CascadeLabel(
        id=cascade.id,
        origin_server=fleet.names[origin.server],
        origin_incident=origin.id,
        origin_onset=iso(clock.at(origin.onset)),
        origin_breach=clock.iso(breaches.get(origin.id)),
        affected=affected,
    )


@dataclass(frozen=True)
class Labels:
    """Every incident and cascade of a simulation."""

    incidents: tuple[IncidentLabel, ...]
    cascades: tuple[CascadeLabel, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": LABELS_FORMAT,
            "incidents": [asdict(i) for i in self.incidents],
            "cascades": [asdict(c) for c in self.cascades],
        }
