"""Focus periods: where in the input window a forecast looked, in words relative to now.

For the TFT the weights are its attention over the encoder window; for the seasonal-naive
fallback they follow from its rule (it reads the same hours one day earlier and the latest
sample). The analysis sentence describes what the data did in those periods.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from argus.catalogue import STEP_MINUTES
from argus.forecast.frame import DAY_STEPS
from argus.risk import METRIC_LABELS

BIN_STEPS = 30 // STEP_MINUTES  # periods are 30-minute blocks
MAX_PERIODS = 3
# A block is a focus period when it holds this multiple of an even share of the attention.
FOCUS_FACTOR = 1.25
YESTERDAY_MINUTES = (22 * 60, 26 * 60)  # centres in this range read "Yesterday at this time"
SPREAD_FACTOR = 1.5
TREND_POINTS = 2.0  # a change smaller than this (in the metric's units) reads "steady"


@dataclass(frozen=True)
class FocusPeriod:
    """A stretch of the input window: `start`/`stop` are steps before the last sample
    (stop exclusive, 0 = the last sample) and `share` the attention it received."""

    start: int
    stop: int
    share: float
    name: str | None = None  # overrides the label computed from start/stop

    @property
    def label(self) -> str:
        return self.name or period_label(self.start, self.stop)


def period_label(start: int, stop: int) -> str:
    """'Last 30 minutes', '45 minutes ago', '2 hours ago' or 'Yesterday at this time'."""
    if start == 0:
        minutes = stop * STEP_MINUTES
        return f"Last {minutes} minutes" if minutes < 120 else f"Last {minutes / 60:g} hours"
    centre = (start + stop - 1) / 2 * STEP_MINUTES
    if YESTERDAY_MINUTES[0] <= centre <= YESTERDAY_MINUTES[1]:
        return "Yesterday at this time"
    if centre < 90:
        return f"{int(round(centre / 15) * 15) or 15} minutes ago"
    hours = round(centre / 60)
    return f"{hours} hour{'s' if hours != 1 else ''} ago"


def focus_periods(attention: np.ndarray) -> list[FocusPeriod]:
    """The 1-3 most attended 30-minute blocks (adjacent ones merged), most attended first.

    `attention[-1]` is the last sample's weight. Always at least one period.
    """
    back = attention[::-1]  # back[j]: j steps before the last sample
    n_bins = int(np.ceil(len(back) / BIN_STEPS))
    shares = np.array([back[b * BIN_STEPS : (b + 1) * BIN_STEPS].sum() for b in range(n_bins)])
    even = 1.0 / n_bins
    order = [int(b) for b in np.argsort(-shares, kind="stable")]
    chosen = sorted(b for b in order[:MAX_PERIODS] if shares[b] >= FOCUS_FACTOR * even)
    chosen = chosen or order[:1]
    periods: list[FocusPeriod] = []
    for b in chosen:
        start, stop = b * BIN_STEPS, min((b + 1) * BIN_STEPS, len(back))
        if periods and periods[-1].stop == start:  # adjacent: one longer period
            prev = periods.pop()
            periods.append(FocusPeriod(prev.start, stop, prev.share + float(shares[b])))
        else:
            periods.append(FocusPeriod(start, stop, float(shares[b])))
    return sorted(periods, key=lambda p: -p.share)


def rule_periods(history_steps: int, horizon: int) -> list[FocusPeriod]:
    """What the simple forecasters read where no model serves: the last hour (the last value
    and the recent mean) and, with a day of history, the next `horizon` steps one day earlier
    (the most recent of the days whose median is the usual level)."""
    latest = FocusPeriod(0, min(12, max(history_steps, 1)), 0.0)
    if history_steps < DAY_STEPS:
        return [latest]
    yesterday = FocusPeriod(DAY_STEPS - horizon, DAY_STEPS, 0.0, "Yesterday at this time")
    return [yesterday, latest]


def _unit(metric: str) -> str:
    return "" if metric == "load" else "%"


def describe(values: np.ndarray, period: FocusPeriod, metric: str) -> str:
    """One clause about `metric` in a period, e.g. 'the memory climb of the last 30 minutes
    (71% → 84%)'. `values` is the metric over the window, last sample last."""
    n = len(values)
    seg = values[max(0, n - period.stop) : n - period.start]
    seg = seg[np.isfinite(seg)]
    name, unit = METRIC_LABELS[metric].lower().replace("cpu", "CPU"), _unit(metric)
    name = name.replace("i/o", "I/O")
    when = period.label
    recent = when.startswith("Last")
    if len(seg) == 0:
        return f"{name} {when.lower()} (no samples)"
    first, last = float(seg[0]), float(seg[-1])  # bucket means already smooth the noise
    share = f"; {period.share:.0%} of the attention" if period.share > 0 else ""
    if len(seg) > 1 and abs(last - first) >= TREND_POINTS:
        kind = "climb" if last > first else "drop"
        when = f"of the {when.lower()}" if recent else when.lower()
        return f"the {name} {kind} {when} ({first:.0f}{unit} → {last:.0f}{unit}{share})"
    when = f"in the {when.lower()}" if recent else when.lower()
    return f"{name} steady near {float(np.mean(seg)):.0f}{unit} {when}" + (
        f" ({share[2:]})" if share else ""
    )


def is_spread(attention: np.ndarray) -> bool:
    """Whether no 30-minute block stands out (the largest holds < 1.5 even shares)."""
    n_bins = int(np.ceil(len(attention) / BIN_STEPS))
    back = attention[::-1]
    top = max(back[b * BIN_STEPS : (b + 1) * BIN_STEPS].sum() for b in range(n_bins))
    return bool(top < SPREAD_FACTOR / n_bins)


def analysis(values: np.ndarray, periods: list[FocusPeriod], metric: str, lead: str) -> str:
    """'<lead> X and Y.' built from the data in the periods (lead: 'Model focused on')."""
    clauses = [describe(values, p, metric) for p in periods]
    joined = clauses[0] if len(clauses) == 1 else ", ".join(clauses[:-1]) + " and " + clauses[-1]
    return f"{lead} {joined}."


def attention_analysis(
    values: np.ndarray, attention: np.ndarray, periods: list[FocusPeriod], metric: str
) -> str:
    """The TFT's analysis; when no block stands out it says so instead of overstating focus."""
    if not is_spread(attention):
        return analysis(values, periods, metric, "Model focused on")
    hours = len(attention) * STEP_MINUTES / 60
    lead = f"Attention is spread almost evenly over the last {hours:g} hours; the most on"
    return analysis(values, periods, metric, lead)
