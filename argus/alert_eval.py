"""Score alerts against labelled incidents: catch rate, lead time, false alerts, calibration."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from argus.alerts import RANK
from argus.replay import ReplayStep
from argus.thresholds import Level

EARLY_WINDOW = timedelta(minutes=60)  # an alert up to an hour before onset counts as catching it


@dataclass(frozen=True)
class LabelledIncident:
    server: str
    onset: datetime
    breach: datetime | None
    end: datetime


@dataclass(frozen=True)
class EarlyWarning:
    incidents: int  # incidents that begin after the first cycle and breach inside the period
    caught: int  # with a warning-or-higher alert in [onset - 1 h, breach]
    caught_30m: int  # ... that came at least 30 minutes before the breach
    lead_minutes: list[float]  # breach - first such alert, for caught incidents
    false_alerts: int  # warning-or-higher alert openings outside [onset - 1 h, end] of any incident
    server_days: float

    @property
    def false_per_server_day(self) -> float:
        return self.false_alerts / self.server_days if self.server_days else 0.0


def _raised(steps: Sequence[ReplayStep], level: Level) -> list[tuple[str, datetime]]:
    """(server, time) of every transition into `level` or higher."""
    out = []
    for step in steps:
        for e in step.events:
            if RANK[e.level] >= RANK[level] > RANK[e.previous_level]:
                out.append((e.server_name, e.at))
    return out


def early_warning(
    steps: Sequence[ReplayStep],
    incidents: Sequence[LabelledIncident],
    servers: int,
    level: Level = Level.WARNING,
) -> EarlyWarning:
    """Match alert openings to incidents (see docs/benchmarks.md for the protocol)."""
    if not steps:
        return EarlyWarning(0, 0, 0, [], 0, 0.0)
    first, last = steps[0].at, steps[-1].at
    raised = _raised(steps, level)
    # Alerts raised at the first origin reflect history before the replay, not a prediction.
    raised = [(s, t) for s, t in raised if t > first]
    leads, caught_30m = [], 0
    # An incident already under way at the first cycle cannot be warned about in time (and
    # that cycle's alerts are dropped above): only incidents that begin inside are scored.
    scored = [
        i for i in incidents if i.breach is not None and first < i.onset and i.breach <= last
    ]
    for inc in scored:
        assert inc.breach is not None  # noqa: S101 - filtered above
        times = [
            t for s, t in raised if s == inc.server and inc.onset - EARLY_WINDOW <= t <= inc.breach
        ]
        if times:
            lead = (inc.breach - min(times)).total_seconds() / 60
            leads.append(lead)
            caught_30m += lead >= 30
    false = sum(
        not any(i.server == s and i.onset - EARLY_WINDOW <= t <= i.end for i in incidents)
        for s, t in raised
    )
    days = (last - first).total_seconds() / 86400
    return EarlyWarning(len(scored), len(leads), caught_30m, leads, false, servers * days)


@dataclass(frozen=True)
class Calibration:
    rows: list[tuple[float, float, int, float, float]]  # (bin lo, bin hi, n, mean p, frequency)
    brier: float
    ece: float  # expected calibration error: sum over bins of n/N * |mean p - frequency|
    base_rate: float


def calibration(probs: Sequence[float], outcomes: Sequence[bool], bins: int = 10) -> Calibration:
    """Reliability table, Brier score and expected calibration error of probability forecasts."""
    p = np.asarray(probs, dtype=float)
    y = np.asarray(outcomes, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        mask = idx == b
        n = int(mask.sum())
        if n:
            mean_p, freq = float(p[mask].mean()), float(y[mask].mean())
            rows.append((float(edges[b]), float(edges[b + 1]), n, mean_p, freq))
            ece += n / len(p) * abs(mean_p - freq)
    brier = float(np.mean((p - y) ** 2)) if len(p) else 0.0
    return Calibration(rows, brier, ece, float(y.mean()) if len(y) else 0.0)
