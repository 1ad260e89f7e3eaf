"""Drift extrapolation: the forecast of a target that has left its daily pattern along a line.

A network trained on ordinary days has rarely seen a memory leak or a disk filling up, and
forecasts such a climb flattening out; a seasonal-naive forecast repeats yesterday. Both miss
the one thing a resource running out does: keep going. This is the classic answer to that
(Prometheus' `predict_linear`), made statistical and checked against the model it overrides:

- Per server and target, fit a least-squares line to the last `window` steps of the *seasonal
  difference* d(t) = y(t) - s(t), s(t) the median of y at the same time on each of the last
  `seasonal_days` days (those in the history; y itself under a day of history), so a daily
  ramp the server has on most days is no drift — nor Monday morning's against a quiet Sunday.
- The drift forecast is s(t + h) + the line extrapolated to t + h, with the line's
  prediction interval (residual spread, slope uncertainty growing with h) as normal quantiles.
- It replaces the model's forecast of that target only when the slope is rising with a
  t-statistic of at least `min_t`, the drift forecast ends above the model's own upper
  quantile (the model's forecast is implausible given the last hour, not merely different),
  and the target accumulates (memory, swap, disk) or is a workload metric climbing more
  steeply than in any hour of a reference day (then followed for 2 hours and held).
  Falling usage is left to the model: it is a recovery, not a failure to warn about.

The server's model name gets "+trend" so every forecast still says what made it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields, replace
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
    # A workload climb is short-lived (it ends or saturates): its line is followed for 2 hours
    # and then held, so an hour's climb from a low level does not become a breach at 8 hours.
    workload_hold: int = 24
    window: int = 12  # steps (1 h) the line is fitted on
    seasonal_days: int = 7  # days whose median at the same time is the usual level
    min_t: float = 6.0  # slope t-statistic at least this
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
    rising: np.ndarray  # slope t-statistic >= min_t
    unprecedented: np.ndarray  # climb > workload_margin x the reference day's steepest


def _fit(recent: np.ndarray, rule: TrendRule) -> _Fit:
    w, gap, steps = rule.window, rule.reference_gap, recent.shape[1]
    y = recent[:, -w:]
    past = same_time_median(recent, steps - w, w, rule.seasonal_days)  # the usual level
    seasonal = np.isfinite(past).all(axis=1)
    d = np.where(seasonal[:, None], y - np.nan_to_num(past), y)
    xc = np.arange(w) - (w - 1) / 2
    sxx = float((xc**2).sum())
    slope = np.einsum("w,nwt->nt", xc, d) / sxx
    level = d.mean(axis=1)
    resid = d - (level[:, None] + slope[:, None] * xc[None, :, None])
    sigma = np.sqrt((resid**2).sum(axis=1) / (w - 2))
    se = np.maximum(sigma / np.sqrt(sxx), 1e-9)
    with np.errstate(invalid="ignore"):
        rising = np.isfinite(y).all(axis=1) & (slope / se >= rule.min_t)
    reference = recent[:, steps - gap - DAY_STEPS : steps - gap]  # the day that ended `gap` ago
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN reference: no climb
        climbs = np.nanmax(reference[:, w - 1 :] - reference[:, : DAY_STEPS - w + 1], axis=1)
        unprecedented = slope * (w - 1) > rule.workload_margin * climbs  # False: no reference
    return _Fit(level, slope, sigma, seasonal, rising, unprecedented)


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
    held = np.array([t in rule.workload for t in targets])[:, None]
    along = (w - 1) / 2 + np.where(held, np.minimum(steps, rule.workload_hold), steps)  # (T, h)
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
    fit = _fit(recent, rule)
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
    use = eligible[candidates] & (drift[:, :, -1, forecast.quantile_index(0.5)] > upper)
    if not use.any():
        return forecast
    values = forecast.values.copy()
    values[rows] = np.where(use[:, :, None, None], drift, model)
    models = list(forecast.models)
    for i in np.flatnonzero(use.any(axis=1)):
        models[rows[i]] += TREND_SUFFIX
    return replace(forecast, values=values, models=tuple(models))
