"""Risk from quantile forecasts: breach probabilities, time to issue, the 0-100 score, messages.

How a breach probability is read from a forecast
------------------------------------------------
For one server, metric and future step, the forecast gives values v_0 <= ... <= v_n at
quantile levels q_0 < ... < q_n. Between two points the CDF F is linear (piecewise-linear
interpolation). Beyond the outer quantiles it has exponential tails with a fixed scale per metric
(`tail_scale`): below v_0, F(x) = q_0 * exp((x - v_0) / s); above v_n,
1 - F(x) = (1 - q_n) * exp(-(x - v_n) / s). The breach probability at a step is
P(X >= critical) = 1 - F(critical). Because the tails' scale does not depend on the forecast,
raising any forecast value never lowers a probability.

The probability of a breach *within* a horizon is the largest per-step probability up to it: the
exact first-passage probability if the paths are comonotone, and a lower bound otherwise. Its
calibration is measured in bench/, not assumed.

The score
---------
For each metric and future step k with breach probability p_k, the step's severity is
s(p) = 160 p for p <= 0.5 and 80 + 40 (p - 0.5) above (a breach as likely as not scores 80, a
certain one 100), weighted by urgency(k): 1 up to 30 minutes ahead, 0.8 at 2 hours, 0.65 at
8 hours (linear in between). So a coin-flip breach within 30 minutes is critical (80), a certain
breach within 2 hours is critical, a certain breach 8 hours away is a warning (65), a coin flip
at 8 hours is degraded (52), and a 30 % chance soon is healthy (48). The forecast part is the
largest weighted severity over the steps; the present part is 0 below the warning threshold,
50 to 60 between warning and critical, and 85 at or above critical. Metrics with thresholds
that are not forecast (`PRESENT_ONLY`: sockets in CLOSE_WAIT) have the present part only.
risk_score = max over metrics of max(forecast part, present part). Every part is non-decreasing
in every forecast value and in the present value.

`time_to_issue` is the first step at which a breach becomes more likely than not (p > 0.5).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from argus.catalogue import STEP_MINUTES, derive_targets, field_value
from argus.forecast.base import ForecastSet
from argus.thresholds import Level, level_for, threshold_for

URGENT_STEPS = 30 // STEP_MINUTES  # 30 minutes: full urgency
# Urgency knots (step, weight) after URGENT_STEPS: a certain breach within 2 hours is critical
# (80), one further out a warning, down to 65 at 8 hours; an even chance at 8 hours is degraded.
SOON_STEPS, SOON_URGENCY = 120 // STEP_MINUTES, 0.8
FAR_URGENCY = 0.65  # urgency of a breach at the end of the 8-hour horizon
PRESENT_CRITICAL = 85.0
MORE_LIKELY_THAN_NOT = 0.5

# What breaching each metric means, for messages.
BREACH_NAMES: dict[str, str] = {
    "cpu_pct": "CPU saturation",
    "mem_pct": "Memory exhaustion",
    "swap_pct": "Swap exhaustion",
    "iowait_pct": "I/O wait saturation",
    "disk_pct": "Disk full",
    "load": "Load overload",
    "back_close_wait": "Connection leak",
}
METRIC_LABELS: dict[str, str] = {
    "cpu_pct": "CPU",
    "mem_pct": "Memory",
    "swap_pct": "Swap",
    "iowait_pct": "I/O wait",
    "disk_pct": "Disk",
    "load": "Load",
    "back_close_wait": "Back-end sockets in CLOSE_WAIT",
}
# Metrics with thresholds that Argus does not forecast: scored on their present value alone (a
# connection leak piles sockets into CLOSE_WAIT until a restart). They have no breach
# probability; `breach_probability` and the Prometheus gauges leave them out.
PRESENT_ONLY: tuple[str, ...] = ("back_close_wait",)
RISK_METRICS: tuple[str, ...] = tuple(m for m in BREACH_NAMES if m not in PRESENT_ONLY)
_UNITS = {"load": "", "back_close_wait": " sockets"}  # else %


def tail_scale(metric: str, profile: str, cores: int | None = None) -> float:
    """Exponential tail scale: a tenth of the gap between warning and critical (>= 0.25)."""
    t = threshold_for(metric, profile, cores)
    return max((t.critical - t.warning) / 10.0, 0.25)


def exceedance(values: np.ndarray, levels: np.ndarray, x: float, scale: float) -> np.ndarray:
    """P(X >= x) for each row of `values` (steps, quantiles) at quantile `levels`."""
    lo, hi = values[:, 0], values[:, -1]
    cdf = np.empty(len(values))
    below, above = x < lo, x > hi
    cdf[below] = levels[0] * np.exp((x - lo[below]) / scale)
    cdf[above] = 1.0 - (1.0 - levels[-1]) * np.exp(-(x - hi[above]) / scale)
    inside = ~(below | above)
    for i in np.flatnonzero(inside):
        row = values[i]
        # The last position whose value is <= x; flat stretches count as fully passed.
        j = min(int(np.searchsorted(row, x, side="right")) - 1, len(row) - 2)
        width = row[j + 1] - row[j]
        frac = 1.0 if width <= 0 else min(max((x - row[j]) / width, 0.0), 1.0)
        cdf[i] = levels[j] + frac * (levels[j + 1] - levels[j])
    return np.clip(1.0 - cdf, 0.0, 1.0)


def urgency(steps: int) -> np.ndarray:
    """Weight of a breach at each future step (1-based): 1 up to 30 min, 0.8 at 2 h, 0.65 at 8 h.

    Piecewise linear between those points; the last point is the horizon's end (96 steps).
    """
    k = np.arange(1, steps + 1)
    far = max(steps, SOON_STEPS + 1)
    return np.interp(k, [URGENT_STEPS, SOON_STEPS, far], [1.0, SOON_URGENCY, FAR_URGENCY])


def severity(p: np.ndarray) -> np.ndarray:
    """Map breach probabilities to 0-100: 80 at an even chance, 100 when certain."""
    return np.where(p <= 0.5, 160.0 * p, 80.0 + 40.0 * (p - 0.5))


def present_score(
    metric: str, profile: str, value: float | None, cores: int | None = None
) -> float:
    """How bad the latest observed value already is, on the risk scale."""
    if value is None or not np.isfinite(value):
        return 0.0
    t = threshold_for(metric, profile, cores)
    if value >= t.critical:
        return PRESENT_CRITICAL
    if value >= t.warning:
        return 50.0 + 9.9 * (value - t.warning) / (t.critical - t.warning)
    return 0.0


@dataclass(frozen=True)
class MetricRisk:
    """Risk of one metric of one server."""

    metric: str
    probabilities: np.ndarray  # P(breach) at each step
    score: float
    forecast_score: float
    present_score: float
    first_likely_step: int | None  # 1-based step where p > 0.5, or None

    def within(self, steps: int) -> float:
        """Probability of a breach within the first `steps` steps."""
        return float(self.probabilities[:steps].max()) if steps > 0 else 0.0


def metric_risk(
    metric: str,
    profile: str,
    values: np.ndarray,
    levels: np.ndarray,
    present: float | None,
    cores: int | None = None,
) -> MetricRisk:
    """Score one metric from its (steps, quantiles) forecast and its present value; `cores`
    (the server's reported CPU count) replaces the profile's for the load thresholds."""
    t = threshold_for(metric, profile, cores)
    probs = exceedance(values, levels, t.critical, tail_scale(metric, profile, cores))
    forecast = float((severity(probs) * urgency(len(probs))).max()) if len(probs) else 0.0
    now = present_score(metric, profile, present, cores)
    likely = np.flatnonzero(probs > MORE_LIKELY_THAN_NOT)
    first = int(likely[0]) + 1 if len(likely) else None
    return MetricRisk(metric, probs, max(forecast, now), forecast, now, first)


def present_only_risk(metric: str, profile: str, present: float, steps: int) -> MetricRisk:
    """Score a metric Argus does not forecast from its present value: past critical it is in
    breach now (probability 1 at every step: nothing but a restart ends a connection leak),
    else no probability is claimed."""
    now = present_score(metric, profile, present)
    probs = np.full(steps, 1.0 if now >= PRESENT_CRITICAL else 0.0)
    return MetricRisk(metric, probs, now, 0.0, now, None)


def observed_values(record: Mapping[str, Any]) -> dict[str, float | None]:
    """A record's present values of everything the risk scores: the forecast targets
    (`derive_targets`) and the present-only metrics (None: the record lacks it)."""
    out = derive_targets(record)
    out.update({metric: field_value(record, metric) for metric in PRESENT_ONLY})
    return out


@dataclass(frozen=True)
class ServerRisk:
    """The risk of one server: score, dominant metric, time to issue and message.

    `score_level` is the band the score alone falls in. The level a server *has* (tiles, alerts,
    counts) is the alert state machine's, which holds it against flapping: see
    `argus.alerts.server_levels`.
    """

    server_name: str
    risk_score: float
    score_level: Level
    dominant_metric: str
    time_to_issue_minutes: int | None
    breach_at: datetime | None
    prob_30m: float
    prob_8h: float
    message: str
    metrics: Mapping[str, MetricRisk]


def format_minutes(minutes: int) -> str:
    """45 -> '45 minutes'; 125 -> '2 hours 5 minutes'."""
    hours, mins = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if mins or not hours:
        parts.append(f"{mins} minute{'s' if mins != 1 else ''}")
    return " ".join(parts)


def risk_message(dominant: MetricRisk, stamps: np.ndarray, present: float | None) -> str:
    """A sentence that says what will break and when, about the dominant metric."""
    metric = dominant.metric
    name, label = BREACH_NAMES[metric], METRIC_LABELS[metric]
    # A metric already past critical is reported as it is, not as a prediction.
    breached = dominant.present_score >= PRESENT_CRITICAL
    if breached or (dominant.present_score >= dominant.forecast_score and dominant.present_score):
        unit = _UNITS.get(metric, "%")
        state = "critical" if dominant.present_score >= PRESENT_CRITICAL else "above warning"
        shown = f"{present:.0f}" if metric in PRESENT_ONLY else f"{present:.1f}"
        return f"{label} at {shown}{unit} ({state} threshold)"
    step = dominant.first_likely_step
    if step is not None:
        if metric == "disk_pct":
            return f"{name} predicted at {_as_datetime(stamps[step - 1]):%H:%M} UTC"
        return f"{name} predicted in {format_minutes(step * STEP_MINUTES)}"
    chance = dominant.within(len(dominant.probabilities))
    if chance >= 0.05:
        return f"{name} possible within 8 hours ({chance:.0%} chance)"
    return "No breach expected in the next 8 hours"


def assess_server(
    forecast: ForecastSet,
    server: str,
    profile: str,
    present: Mapping[str, float | None],
    *,
    cores: int | None = None,
    metrics: Collection[str] | None = None,
) -> ServerRisk:
    """Turn one server's forecast and latest observed targets into its risk.

    `metrics` limits the scoring to the targets the server reports (None: every target): a
    target it never sent has a forecast of filler values, which must not score.
    """
    row = forecast.index(server)
    levels = np.asarray(forecast.quantiles, dtype=np.float64)
    scored = [
        m for m in RISK_METRICS if m in forecast.targets and (metrics is None or m in metrics)
    ]
    risks = {
        metric: metric_risk(
            metric, profile, forecast.values[row, forecast.targets.index(metric)], levels,
            present.get(metric), cores,
        )
        for metric in scored
    }  # fmt: skip
    for metric in PRESENT_ONLY:
        value = present.get(metric)
        if value is not None:
            risks[metric] = present_only_risk(metric, profile, value, forecast.steps)
    dominant = max(risks.values(), key=lambda r: (r.score, r.forecast_score))
    stamps = forecast.timestamps[row]
    likely = [r.first_likely_step for r in risks.values() if r.first_likely_step is not None]
    first = min(likely) if likely else None
    # A metric already past its critical threshold is an issue now (step 0, the latest bucket),
    # whatever the forecast says about the next steps.
    if any(r.present_score >= PRESENT_CRITICAL for r in risks.values()):
        first = 0
    score = round(dominant.score, 1)
    return ServerRisk(
        server_name=server,
        risk_score=score,
        score_level=level_for(score),
        dominant_metric=dominant.metric,
        time_to_issue_minutes=None if first is None else first * STEP_MINUTES,
        breach_at=None if first is None else _breach_time(stamps, first),
        prob_30m=max(r.within(URGENT_STEPS) for r in risks.values()),
        prob_8h=max(r.within(forecast.steps) for r in risks.values()),
        message=risk_message(dominant, stamps, present.get(dominant.metric)),
        metrics=risks,
    )


def _breach_time(stamps: np.ndarray, step: int) -> datetime:
    """The time of future step `step` (1-based); step 0 is the latest bucket, before stamps[0]."""
    if step == 0:
        return _as_datetime(stamps[0]) - timedelta(minutes=STEP_MINUTES)
    return _as_datetime(stamps[step - 1])


def _as_datetime(value: np.datetime64) -> datetime:
    return datetime.fromisoformat(str(np.datetime_as_string(value, unit="s")))


@dataclass(frozen=True)
class FleetSummary:
    """Counts per level, fleet health and fleet-wide breach probabilities."""

    total_servers: int
    counts: Mapping[Level, int]
    fleet_health: float
    prob_30m: float
    prob_8h: float
    stale: int = 0  # servers without recent data: in total_servers, in no level count


def fleet_summary(
    risks: list[ServerRisk], levels: Mapping[str, Level], stale: int = 0
) -> FleetSummary:
    """Summarise the fleet: the servers with a risk, plus `stale` ones that stopped reporting;
    `levels` holds each server's level (`argus.alerts.server_levels`).

    counts are of `levels`, so they equal what the tiles and the alert list show. fleet_health
    is the mean of (100 - risk_score) over the servers with a risk (a stale server has none).
    prob_30m / prob_8h are the probabilities
    that at least one server breaches a critical threshold within 30 minutes / 8 hours, treating
    servers as independent: 1 - prod(1 - p_server).
    """
    counts = {level: 0 for level in Level}
    for level in levels.values():
        counts[level] += 1
    if not risks:
        return FleetSummary(stale, counts, 100.0, 0.0, 0.0, stale)
    health = float(np.mean([100.0 - r.risk_score for r in risks]))

    def any_breach(probs: list[float]) -> float:
        return float(1.0 - np.prod([1.0 - p for p in probs]))

    return FleetSummary(
        total_servers=len(risks) + stale,
        counts=counts,
        fleet_health=round(health, 1),
        prob_30m=round(any_breach([r.prob_30m for r in risks]), 4),
        prob_8h=round(any_breach([r.prob_8h for r in risks]), 4),
        stale=stale,
    )
