"""The stateful fleet simulator: advance time, inject incidents, read the ground truth."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from argus.catalogue import STEP_MINUTES
from argus.simulate.block import Block, assemble
from argus.simulate.fleet import DEFAULT_SERVERS, STEPS_PER_DAY, Fleet, build_fleet
from argus.simulate.incidents import CASCADE, INJECTED, Incident
from argus.simulate.labels import Clock, Labels, cascade_label, incident_label
from argus.simulate.planner import (
    IncidentBook,
    IncidentRates,
    inject,
    plan_cascade,
    plan_natural,
)
from argus.simulate.signals import SignalState, initial_state, render
from argus.thresholds import threshold_for

DEFAULT_START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CALM_START_STEPS = 12  # no incident starts in the first hour, so each has a clean "before"


def floor_to_step(moment: datetime) -> datetime:
    """Round a time down to the 5-minute grid, in UTC."""
    moment = moment.astimezone(UTC).replace(second=0, microsecond=0)
    return moment - timedelta(minutes=moment.minute % STEP_MINUTES)


@dataclass
class Simulator:
    """A fleet and its clock; each `advance` renders the next samples of every server."""

    fleet: Fleet
    clock: Clock
    rates: IncidentRates
    state: SignalState
    noise_rng: np.random.Generator
    plan_rng: np.random.Generator
    book: IncidentBook = field(default_factory=IncidentBook)
    breaches: dict[str, int] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        servers: int = DEFAULT_SERVERS,
        seed: int = 0,
        start: datetime = DEFAULT_START,
        rates: IncidentRates | None = None,
    ) -> Simulator:
        """Build a simulator whose every output is a function of its arguments."""
        fleet_rng, noise_rng, plan_rng = (
            np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)
        )
        fleet = build_fleet(servers, fleet_rng)
        return cls(
            fleet,
            Clock(floor_to_step(start)),
            rates or IncidentRates(),
            initial_state(fleet, noise_rng),
            noise_rng,
            plan_rng,
        )

    @property
    def step(self) -> int:
        """Return the next step `advance` renders."""
        return self.state.step

    def now(self) -> datetime:
        """Return the time of the next sample."""
        return self.clock.at(self.step)

    def plan_complete(self, n_steps: int) -> None:
        """Schedule random incidents that start and finish within the next `n_steps`."""
        window = (self.step + CALM_START_STEPS, self.step + n_steps)
        if window[0] < window[1]:
            plan_natural(
                self.book, self.fleet, self.plan_rng, self.rates, window, complete_by=window[1]
            )

    def advance(self, n_steps: int, *, natural: bool = False) -> Block:
        """Render the next `n_steps`; with `natural`, random incidents may start in them."""
        if natural:
            plan_natural(
                self.book, self.fleet, self.plan_rng, self.rates, (self.step, self.step + n_steps)
            )
        start_minute = int((self.clock.start - _EPOCH).total_seconds() // 60)
        incidents = list(self.book.incidents.values())
        raw = render(self.fleet, self.state, incidents, self.noise_rng, start_minute, n_steps)
        block = assemble(self.fleet, raw, incidents)
        self._note_breaches(block)
        return block

    def _note_breaches(self, block: Block) -> None:
        first, last = int(block.steps[0]), int(block.steps[-1])
        for inc in self.book.incidents.values():
            if inc.id in self.breaches or inc.onset > last or inc.last_step < first:
                continue
            critical = threshold_for(inc.spec.metric, self.fleet.profiles[inc.server]).critical
            values = block.metric(inc.spec.metric, inc.server)
            hit = (block.steps >= inc.onset) & (block.steps <= inc.last_step) & (values >= critical)
            if hit.any():
                self.breaches[inc.id] = int(block.steps[int(np.argmax(hit))])

    def inject(self, server: str, kind: str, lead_minutes: float) -> Incident:
        """Start an incident on `server` at the next sample."""
        return inject(
            self.book,
            self.fleet,
            self.plan_rng,
            server=self.fleet.index(server),
            kind=kind,
            onset=self.step,
            lead_minutes=lead_minutes,
        )

    def inject_cascade(self, server: str, kind: str, lead_minutes: float) -> list[Incident]:
        """Start an incident on an upstream `server` that spreads to all its dependents."""
        origin = self.inject(server, kind, lead_minutes)
        cascade = plan_cascade(self.book, self.fleet, self.plan_rng, origin, force=True)
        members = [] if cascade is None else [m for m, _ in cascade.members]
        return [self.book.incidents[origin.id], *(self.book.incidents[m] for m in members)]

    def end_injected(self) -> list[str]:
        """Fix every injected incident (and what it cascaded into) at the next sample."""
        injected = {i.id for i in self.book.incidents.values() if i.cause == INJECTED}
        origins = {c.id for c in self.book.cascades.values() if c.origin in injected}
        ended = [
            i.id
            for i in self.book.incidents.values()
            if i.last_step >= self.step
            and (i.id in injected or (i.cause == CASCADE and i.cascade_id in origins))
        ]
        for incident_id in ended:
            self.book.end_at(incident_id, self.step)
        return ended

    def labels(self) -> Labels:
        """Return the ground truth so far."""
        book, fleet, clock = self.book, self.fleet, self.clock
        return Labels(
            tuple(
                incident_label(i, fleet, clock, self.breaches.get(i.id))
                for i in book.incidents.values()
            ),
            tuple(
                cascade_label(c, book.incidents, fleet, clock, self.breaches)
                for c in book.cascades.values()
                if c.members
            ),
        )


@dataclass(frozen=True)
class Simulation:
    """A finished run: all samples, the fleet and the ground truth."""

    block: Block
    labels: Labels
    fleet: Fleet
    seed: int
    rates: IncidentRates


def simulate_fleet(
    servers: int = DEFAULT_SERVERS,
    days: float = 14.0,
    seed: int = 0,
    start: datetime = DEFAULT_START,
    rates: IncidentRates | None = None,
) -> Simulation:
    """Simulate `days` of a fleet with random incidents that all complete inside the period."""
    sim = Simulator.create(servers, seed, start, rates)
    n_steps = max(1, round(days * STEPS_PER_DAY))
    sim.plan_complete(n_steps)
    block = sim.advance(n_steps)
    return Simulation(block, sim.labels(), sim.fleet, seed, sim.rates)
