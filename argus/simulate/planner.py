"""Decide when and where incidents happen, and how a cascade spreads."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from argus.catalogue import STEP_MINUTES
from argus.simulate.cascades import UPSTREAM_PROFILES, dependency
from argus.simulate.fleet import STEPS_PER_DAY, Fleet
from argus.simulate.incidents import CASCADE, INJECTED, KINDS, NATURAL, Incident
from argus.simulate.profiles import PROFILE_SPECS, Range
from argus.thresholds import threshold_for

COOLDOWN_STEPS = 12  # a server gets an hour of calm between two incidents


@dataclass(frozen=True)
class IncidentRates:
    """How often incidents happen and how much warning they give."""

    per_server_day: float = 0.08
    cascade_probability: float = 0.6  # share of upstream incidents that spread
    lead_minutes: Range = (60.0, 360.0)  # onset to breach


@dataclass(frozen=True)
class Cascade:
    """An upstream incident and the dependent incidents it caused."""

    id: str
    origin: str  # incident id
    members: tuple[tuple[str, int], ...]  # (incident id, lag in steps after saturation)


@dataclass
class IncidentBook:
    """Every incident and cascade of one simulation, in the order they were planned."""

    incidents: dict[str, Incident] = field(default_factory=dict)
    cascades: dict[str, Cascade] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {"inc": 0, "cas": 0})

    def peek_id(self, prefix: str) -> str:
        """Return the id the next incident ("inc") or cascade ("cas") stored will get."""
        return f"{prefix}-{self.counts[prefix] + 1:04d}"

    def free(self, server: int, start: int, stop: int) -> bool:
        """Say whether `server` has no incident (plus cooldown) overlapping [start, stop]."""
        return all(
            inc.server != server
            or stop + COOLDOWN_STEPS < inc.onset
            or start > inc.last_step + COOLDOWN_STEPS
            for inc in self.incidents.values()
        )

    def add(self, incident: Incident) -> Incident:
        """Store `incident` under the next free id."""
        stored = dataclasses.replace(incident, id=self.peek_id("inc"))
        self.counts["inc"] += 1
        self.incidents[stored.id] = stored
        return stored

    def add_cascade(self, origin_id: str, members: tuple[tuple[str, int], ...]) -> Cascade:
        cascade = Cascade(self.peek_id("cas"), origin_id, members)
        self.counts["cas"] += 1
        self.cascades[cascade.id] = cascade
        origin = self.incidents[origin_id]
        self.incidents[origin_id] = dataclasses.replace(origin, cascade_id=cascade.id)
        return cascade

    def end_at(self, incident_id: str, step: int) -> None:
        """Fix an incident at `step`, or drop it if it has not started by then."""
        inc = self.incidents[incident_id]
        if inc.onset >= step:
            del self.incidents[incident_id]
            for cas in list(self.cascades.values()):
                members = tuple(m for m in cas.members if m[0] != incident_id)
                self.cascades[cas.id] = dataclasses.replace(cas, members=members)
        elif inc.end > step:
            self.incidents[incident_id] = dataclasses.replace(inc, end=step)

    def active(self, server: int, step: int) -> list[str]:
        return [i.id for i in self.incidents.values() if i.server == server and i.last_step >= step]


def typical_level(fleet: Fleet, server: int, channel: str) -> float:
    """Return the usual value of a simulated signal on one server."""
    lv = {k: float(v[server]) for k, v in fleet.levels.items()}
    return {
        "mem": lv["mem_base"] + 0.5 * lv["mem_amp"],
        "disk": lv["disk_cleanup_at"] - 5.0,
        "cpu": lv["cpu_base"] + 0.5 * lv["cpu_amp"] + lv["iowait_base"],
        "iowait": lv["iowait_base"] + 0.5 * lv["iowait_amp"],
        "cw_back": 0.6 * lv["close_wait_back"],
    }[channel]


def _minutes_to_steps(minutes: float) -> int:
    return max(1, round(minutes / STEP_MINUTES))


def make_incident(
    fleet: Fleet,
    rng: np.random.Generator,
    *,
    server: int,
    kind: str,
    onset: int,
    lead_minutes: float,
    cause: str = NATURAL,
    strength: float = 1.0,
    cascade_id: str | None = None,
) -> Incident:
    """Build an unnumbered incident whose metric breaches about `lead_minutes` after onset."""
    spec = KINDS[kind]
    target = float(rng.uniform(*spec.target))
    base = typical_level(fleet, server, spec.channel)
    critical = threshold_for(spec.metric, fleet.profiles[server]).critical
    # Share of the ramp spent below the critical level, for a ramp of weight**exponent.
    below = ((critical - base) / (target - base)) ** (1.0 / spec.exponent)
    ramp = max(3, round(_minutes_to_steps(lead_minutes) / max(below, 0.05)))
    plateau = _minutes_to_steps(float(rng.uniform(*spec.plateau_minutes)))
    decay = round(float(rng.uniform(*spec.decay_minutes)) / STEP_MINUTES)
    return Incident(
        id="",
        server=server,
        kind=kind,
        onset=onset,
        ramp=ramp,
        end=onset + ramp + plateau,
        decay=decay,
        target=target,
        strength=strength,
        reboot=bool(rng.random() < spec.reboot_probability),
        cause=cause,
        cascade_id=cascade_id,
    )


def _pick_kind(fleet: Fleet, server: int, rng: np.random.Generator) -> str:
    weights = PROFILE_SPECS[fleet.profiles[server]].incident_weights
    p = np.array([w for _, w in weights], dtype=float)
    return weights[int(rng.choice(len(weights), p=p / p.sum()))][0]


def plan_natural(
    book: IncidentBook,
    fleet: Fleet,
    rng: np.random.Generator,
    rates: IncidentRates,
    window: tuple[int, int],
    complete_by: int | None = None,
) -> None:
    """Add random incidents starting in `window`; with `complete_by`, only ones done by then."""
    k0, k1 = window
    expected = rates.per_server_day * (k1 - k0) / STEPS_PER_DAY
    candidates: list[tuple[int, int]] = []
    for server in range(fleet.size):
        onsets = rng.integers(k0, k1, size=rng.poisson(expected))
        candidates.extend((int(k), server) for k in onsets)
    for onset, server in sorted(candidates):
        inc = make_incident(
            fleet,
            rng,
            server=server,
            kind=_pick_kind(fleet, server, rng),
            onset=onset,
            lead_minutes=float(rng.uniform(*rates.lead_minutes)),
        )
        if complete_by is not None and inc.last_step + COOLDOWN_STEPS >= complete_by:
            continue
        if not book.free(server, inc.onset, inc.last_step):
            continue
        inc = book.add(inc)
        spreads = rng.random() < rates.cascade_probability
        if spreads and fleet.profiles[server] in UPSTREAM_PROFILES:
            plan_cascade(book, fleet, rng, inc, complete_by=complete_by)


def plan_cascade(
    book: IncidentBook,
    fleet: Fleet,
    rng: np.random.Generator,
    origin: Incident,
    *,
    complete_by: int | None = None,
    force: bool = False,
) -> Cascade | None:
    """Spread `origin` to its dependents; with `force`, fix whatever they are going through."""
    cascade_id = book.peek_id("cas")
    members: list[tuple[str, int]] = []
    for server in fleet.dependents(origin.server):
        dep = dependency(fleet.profiles[origin.server], fleet.profiles[server])
        if dep is None:
            continue
        lag = _minutes_to_steps(float(rng.uniform(*dep.lag_minutes)))
        onset = origin.saturation + lag
        if onset >= origin.end:
            continue  # fixed upstream before this dependent noticed
        child = make_incident(
            fleet,
            rng,
            server=server,
            kind=dep.effect,
            onset=onset,
            lead_minutes=float(rng.uniform(15, 45)),
            cause=CASCADE,
            strength=float(rng.uniform(*dep.strength)),
            cascade_id=cascade_id,
        )
        # The dependent recovers a little after its upstream is fixed.
        end = max(origin.end + lag + int(rng.integers(1, 4)), child.saturation + 2)
        child = dataclasses.replace(child, end=end)
        if complete_by is not None and child.last_step + COOLDOWN_STEPS >= complete_by:
            continue
        if force:
            for other in book.active(server, origin.onset):
                book.end_at(other, origin.onset)
        elif not book.free(server, child.onset, child.last_step):
            continue
        members.append((book.add(child).id, lag))
    if not members:
        return None
    return book.add_cascade(origin.id, tuple(members))


def inject(
    book: IncidentBook,
    fleet: Fleet,
    rng: np.random.Generator,
    *,
    server: int,
    kind: str,
    onset: int,
    lead_minutes: float,
) -> Incident:
    """Start an incident now on `server`, fixing whatever it was going through."""
    for other in book.active(server, onset):
        book.end_at(other, onset)
    return book.add(
        make_incident(
            fleet,
            rng,
            server=server,
            kind=kind,
            onset=onset,
            lead_minutes=lead_minutes,
            cause=INJECTED,
        )
    )
