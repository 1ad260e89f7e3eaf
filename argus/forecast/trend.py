"""Drift extrapolation: the forecast of a target that has left its daily pattern along a line.

A network trained on ordinary days has rarely seen a memory leak or a disk filling up, and
forecasts such a climb flattening out; a seasonal-naive forecast repeats yesterday. Both miss
the one thing a resource running out does: keep going. This is the classic answer to that
(Prometheus' `predict_linear`), made statistical and checked against the model it overrides:

- Per server and target, fit a robust (Theil-Sen) line to the last `window` steps of the *seasonal
  difference* d(t) = y(t) - s(t), s(t) the median of y at the same time on each of the last
  `seasonal_days` days (those in the history; y itself under a day of history), so a daily
  ramp the server has on most days is no drift — nor Monday morning's against a quiet Sunday.
- The drift forecast is s(t + h) + the line extrapolated to t + h, with the line's
  prediction interval (residual spread, slope uncertainty growing with h) as normal quantiles.
- It replaces the model's forecast of that target only when the climb is sustained (a
  Mann-Kendall statistic of at least `min_z`) and significant (a rise over the window of at
  least `min_rise` and `noise_factor` times the window's noise) and a ramp (no single step
  carries more than `step_share` of the rise: a job that starts is a new level), the drift
  forecast ends above the model's own upper quantile (the model's forecast is implausible
  given the last hour, not merely different), and the target accumulates (memory, swap,
  disk; followed for 3 hours and held) or is a workload metric climbing more steeply than in
  any hour of a reference day or past the highest it has been in the seasonal days (its 99th
  percentile; followed for 2 hours and held).
  Falling usage is left to the model: it is a recovery, not a failure to warn about.

The server's model name gets "+trend" so every forecast still says what made it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, fields, replace
from statistics import NormalDist

import numpy as np

from argus.forecast.base import ForecastSet, finish_values
from argus.forecast.frame import DAY_STEPS, ServerSeries, forward_fill, same_time_median

TREND_SUFFIX = "+trend"


@dataclass(frozen=True)
class TrendRule:
    """When a drift forecast replaces the model's; documented in docs/risk.md."""

    # Resources that accumulate (leaks, fills) and run out.
    targets: tuple[str, ...] = ("mem_pct", "swap_pct", "disk_pct")
    # Metrics that follow the workload, which wanders and turns: a line is a forecast for them
    # only when the climb is steeper than any climb of the reference day (a runaway process,
    # an I/O storm), not a busy hour the server has had before.
    workload: tuple[str, ...] = ("cpu_pct", "iowait_pct", "load")
    # The reference day ends this many steps (3 h) before the last sample, so that the
    # incident's own start is not its reference.
    reference_gap: int = 36
    workload_margin: float = 1.5  # "steeper": by at least this factor
    # ... or a climb that has already carried the metric above this quantile of everything
    # before the window (the seasonal days): higher than the server goes, not a usual peak.
    record_quantile: float = 0.99
    # A workload climb is short-lived (it ends or saturates): its line is followed for 2 hours
    # and then held, so an hour's climb from a low level does not become a breach at 8 hours.
    workload_hold: int = 24
    # An hour's line is evidence for a few hours, not eight: an accumulating target's line is
    # followed for 3 hours and then held (node_exporter's disk-fill alert reads 4 hours ahead
    # from its window in the same way). A leak still warns hours before its breach; a climb
    # that levels off later does not become a warning now.
    accumulate_hold: int = 36
    window: int = 12  # steps (1 h) the line is fitted on
    seasonal_days: int = 7  # days whose median at the same time is the usual level
    # Evidence for a climb: a Mann-Kendall statistic of at least `min_z` (most later points
    # above most earlier ones), and a rise over the window of at least `min_rise` in the
    # target's units and `noise_factor` times the window's own noise. A flat series has
    # neither, so it can never be extrapolated into a breach.
    min_z: float = 3.0
    min_rise: dict[str, float] = field(
        default_factory=lambda: {
            "mem_pct": 4.0, "swap_pct": 4.0, "disk_pct": 1.0,
            "cpu_pct": 8.0, "iowait_pct": 5.0, "load": 0.5,
        }
    )
    noise_factor: float = 2.0
    # ... and a ramp, not a step: no single step carries more than this share of the hour's
    # rise. A job that starts (idle to busy, a cache filled) moves to a new level in one
    # bucket and stays there; a line through that step is no forecast. On the tuning data
    # (Bitbrains July, 50 VMs, 2 x 8 days) this left 25 of 82 overrides (at 1 h four in five
    # memory overrides and three in five CPU ones had been worse than the forecast they
    # replaced) and changed no simulated incident's warning (tuning seeds 3 and 4).
    step_share: float = 0.5
    upper_quantile: float = 0.9  # ... and the drift forecast ends above the model's quantile


def history_steps(rule: TrendRule) -> int:
    """Steps of history the rule reads: the seasonal days (the reference day lies within the
    most recent of them), the gap and the window."""
    return max(rule.seasonal_days, 1) * DAY_STEPS + rule.reference_gap + rule.window


def recent_history(series: list[ServerSeries], length: int) -> np.ndarray:
    """(servers, length, targets): each server's last `length` buckets, NaN where none."""
    targets = series[0].values.shape[1] if series else 0
    out = np.full((len(series), length, targets), np.nan)
    for i, s in enumerate(series):
        tail = s.values[-length:]
        out[i, length - len(tail) :] = tail
    return out


@dataclass(frozen=True)
class _Fit:
    """The drift line of every (server, target) and the tests it passed; arrays (n, T)."""

    level: np.ndarray  # the line at the window's centre
    slope: np.ndarray  # per step
    sigma: np.ndarray  # residual spread
    seasonal: np.ndarray  # fitted on the seasonal difference (a day of history was there)
    rising: np.ndarray  # a sustained, significant climb (min_z, min_rise, noise_factor)
    unprecedented: np.ndarray  # climb > workload_margin x the reference day's steepest


def _fit(recent: np.ndarray, rule: TrendRule, targets: tuple[str, ...]) -> _Fit:
    w, steps = rule.window, recent.shape[1]
    y = recent[:, -w:]
    past = same_time_median(recent, steps - w, w, rule.seasonal_days)  # the usual level
    seasonal = np.isfinite(past).all(axis=1)
    d = np.where(seasonal[:, None], y - np.nan_to_num(past), y)
    xc = np.arange(w) - (w - 1) / 2
    i, j = np.triu_indices(w, k=1)
    pairs = d[:, j] - d[:, i]  # (n, pairs, T)
    # Theil-Sen: the median of the pairwise slopes, unmoved by a few odd points
    slope = np.median(pairs / (j - i)[None, :, None], axis=1)
    level = np.median(d - slope[:, None] * xc[None, :, None], axis=1)
    resid = d - (level[:, None] + slope[:, None] * xc[None, :, None])
    sigma = np.maximum(1.4826 * np.median(np.abs(resid), axis=1), 1e-6)
    rise = slope * (w - 1)
    least = np.array([rule.min_rise.get(t, 1.0) for t in targets])[None, :]
    # The evidence is asked of the values themselves too: the departure also climbs when the
    # usual level falls under a flat series (an idle VM at an hour that is busy on most days).
    raw_pairs = y[:, j] - y[:, i]
    raw_rise = np.median(raw_pairs / (j - i)[None, :, None], axis=1) * (w - 1)
    largest_step = np.max(np.diff(y, axis=1), axis=1)
    with np.errstate(invalid="ignore"):
        rising = (
            np.isfinite(y).all(axis=1)
            & (largest_step <= rule.step_share * raw_rise)
            & (_kendall(pairs, w) >= rule.min_z)
            & (_kendall(raw_pairs, w) >= rule.min_z)
            & (rise >= np.maximum(least, rule.noise_factor * sigma))
            & (raw_rise >= least)
        )
    unprecedented = np.zeros_like(rising)
    rows = np.flatnonzero((rising & np.isin(np.array(targets), rule.workload)[None, :]).any(1))
    if len(rows):
        climbs = _reference_climbs(recent[rows], rule)
        record = _record(recent[rows, :-w], rule.record_quantile)
        now = np.median(y[rows, -3:], axis=1)  # the last quarter hour, not one odd sample
        with np.errstate(invalid="ignore"):  # NaN (no reference, no record): False
            steeper = rise[rows] > rule.workload_margin * climbs
            unprecedented[rows] = steeper | (now > record)
    return _Fit(level, slope, sigma, seasonal, rising, unprecedented)


def _record(before: np.ndarray, quantile: float) -> np.ndarray:
    """(n, T) the `quantile` of each series before the fitted window; NaN under a day of it."""
    enough = np.isfinite(before).sum(axis=1) >= DAY_STEPS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN series
        q = np.nanquantile(before, quantile, axis=1)
    return np.where(enough, q, np.nan)


def _kendall(pairs: np.ndarray, w: int) -> np.ndarray:
    """Mann-Kendall statistic of (n, pairs, T) pairwise differences: how consistently later
    points are above earlier ones (about N(0, 1) for a series without trend)."""
    return np.sign(pairs).sum(axis=1) / np.sqrt(w * (w - 1) * (2 * w + 5) / 18)


def _reference_climbs(recent: np.ndarray, rule: TrendRule) -> np.ndarray:
    """(n, T) the steepest one-hour climb (least-squares slope x window) of the reference day's
    departure from its usual level: a workload's ordinary daily ramps are in the usual level,
    so what is left climbs only as fast as the day-to-day variation does. Without a usual
    level (under a day of history before the reference) the day's own values are used; NaN
    without a reference day."""
    w, gap, steps = rule.window, rule.reference_gap, recent.shape[1]
    start = steps - gap - DAY_STEPS  # the day that ended `gap` ago
    reference = recent[:, start : steps - gap]
    usual = same_time_median(recent, start, DAY_STEPS, rule.seasonal_days)
    d = np.where(np.isfinite(usual), reference - usual, reference)
    xc = np.arange(w) - (w - 1) / 2
    windows = np.lib.stride_tricks.sliding_window_view(d, w, axis=1)  # (n, windows, T, w)
    slopes = windows @ xc / float((xc**2).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN reference: no climb
        return np.nanmax(slopes, axis=1) * (w - 1)


def _paths(
    recent: np.ndarray,
    fit: _Fit,
    rule: TrendRule,
    targets: tuple[str, ...],
    quantiles: tuple[float, ...],
    horizon: int,
) -> np.ndarray:
    """The drift forecast (n, T, horizon, quantiles), before clipping to the physical range."""
    w = rule.window
    steps = np.arange(1, horizon + 1)
    xh = (w - 1) / 2 + steps  # future steps from the window's centre
    hold = np.array([rule.workload_hold if t in rule.workload else rule.accumulate_hold
                     for t in targets])[:, None]
    along = (w - 1) / 2 + np.minimum(steps[None, :], hold)  # (T, h)
    line = fit.level[:, :, None] + fit.slope[:, :, None] * along[None, :, :]  # (n, T, h)
    # the usual level of each future step (the first is at position len(recent))
    base = same_time_median(recent, recent.shape[1], horizon, rule.seasonal_days)
    base = np.transpose(base, (0, 2, 1))
    median = np.where(fit.seasonal[:, :, None], np.nan_to_num(base) + line, line)
    sxx = w * (w * w - 1) / 12  # sum of squared centred positions
    spread = fit.sigma[:, :, None] * np.sqrt(1 + 1 / w + xh[None, None, :] ** 2 / sxx)
    z = np.array([NormalDist().inv_cdf(q) for q in quantiles])
    return median[..., None] + spread[..., None] * z[None, None, None, :]


def apply_trends(
    forecast: ForecastSet, series: list[ServerSeries], rule: TrendRule | None
) -> ForecastSet:
    """`forecast` with each qualifying drift's forecast in place of the model's."""
    if rule is None or not series:
        return forecast
    served = set(forecast.servers)
    keep = [s for s in series if s.name in served]
    recent = recent_history(keep, history_steps(rule))
    return apply_trends_to(forecast, tuple(s.name for s in keep), recent, rule)


def apply_trends_to(
    forecast: ForecastSet, names: tuple[str, ...], recent: np.ndarray, rule: TrendRule | None
) -> ForecastSet:
    """`apply_trends` on `recent_history`-shaped arrays (servers `names`, NaN where no bucket)."""
    if rule is None or not names or forecast.steps > DAY_STEPS:
        return forecast
    recent = forward_fill(recent, axis=1)  # a missed push repeats the previous value
    fit = _fit(recent, rule, forecast.targets)
    targets = np.array(forecast.targets)
    eligible = fit.rising & (
        np.isin(targets, rule.targets)[None, :]
        | (np.isin(targets, rule.workload)[None, :] & fit.unprecedented)
    )
    candidates = np.flatnonzero(eligible.any(axis=1))
    if not len(candidates):
        return forecast
    sub = _Fit(*(getattr(fit, f.name)[candidates] for f in fields(_Fit)))
    drift = _paths(
        recent[candidates], sub, rule, forecast.targets, forecast.quantiles, forecast.steps
    )
    drift = finish_values(drift, forecast.targets)  # 100 % is as far as it goes
    rows = np.array([forecast.index(names[i]) for i in candidates])
    model = forecast.values[rows]  # (n, T, h, q)
    upper = model[:, :, -1, forecast.quantile_index(rule.upper_quantile)]
    mid = forecast.quantile_index(0.5)
    end, model_end = drift[:, :, -1, mid], model[:, :, -1, mid]
    # above the model's upper quantile; or, where that is already at the physical limit (a
    # wide band clipped at 100 %), there too while the model's median stays below it
    use = eligible[candidates] & ((end > upper) | ((end >= upper) & (end > model_end)))
    if not use.any():
        return forecast
    values = forecast.values.copy()
    values[rows] = np.where(use[:, :, None, None], drift, model)
    models = list(forecast.models)
    for i in np.flatnonzero(use.any(axis=1)):
        models[rows[i]] += TREND_SUFFIX
    return replace(forecast, values=values, models=tuple(models))
