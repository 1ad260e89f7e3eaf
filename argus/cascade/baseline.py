"""Anomaly scores against adaptive baselines: each server against its own same-time-of-day past."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

from argus.cascade.cube import STEPS_PER_DAY, FloatArray
from argus.cascade.settings import CascadeSettings

MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation


def seasonal_offsets(cfg: CascadeSettings, steps_per_day: int = STEPS_PER_DAY) -> np.ndarray:
    """Return how far back the baseline samples of a step lie: same slot +- halfwidth, each day."""
    return np.array(
        [
            d * steps_per_day + j
            for d in range(1, cfg.baseline_days + 1)
            for j in range(-cfg.slot_halfwidth, cfg.slot_halfwidth + 1)
        ]
    )


def scale_floor(values: FloatArray, cfg: CascadeSettings) -> FloatArray:
    """Return each metric's smallest scale: a share of its fleet-wide 1-99 % spread.

    Without it a flat series (swap at 0 %) turns any wobble into a huge z-score.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN metrics
        lo, hi = np.nanpercentile(values, [1, 99], axis=(0, 1))
    spread = np.nan_to_num(hi - lo, nan=0.0)
    return np.maximum(cfg.scale_floor * spread, 1e-6)


def day_over_day_scale(
    values: FloatArray, quantile: float = 0.95, steps_per_day: int = STEPS_PER_DAY
) -> FloatArray:
    """Return each server-metric's typical change from the same time the day before (S, M).

    The spread of the few samples at one time of day underestimates how much a series really
    wanders (neighbouring 5-minute samples move together), so it alone makes every server look
    anomalous half the time; the day-over-day change over the whole history does not.
    """
    if values.shape[0] <= steps_per_day:
        diffs = np.diff(values, axis=0)
    else:
        diffs = values[steps_per_day:] - values[:-steps_per_day]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        q = np.nanquantile(np.abs(diffs), quantile, axis=0)
    # The same quantile of |N(0, 2 sigma^2)|: a normal series gets its sigma back.
    z = NormalDist().inv_cdf((1.0 + quantile) / 2.0)
    return np.nan_to_num(q / (z * np.sqrt(2.0)), nan=0.0)


def _robust(history: FloatArray, current: FloatArray, floor: FloatArray) -> FloatArray:
    """Return (current - median) / scale, history being (samples, servers, metrics)."""
    med = np.nanmedian(history, axis=0)
    mad = np.nanmedian(np.abs(history - med), axis=0)
    return (current - med) / np.maximum(MAD_TO_SIGMA * mad, floor)


def raw_scores(
    values: FloatArray,
    start: int,
    cfg: CascadeSettings,
    floor: FloatArray | None = None,
    steps_per_day: int = STEPS_PER_DAY,
) -> FloatArray:
    """Return robust z-scores of steps `start`.. of `values` (T, S, M), each from the past only.

    A step with at least one day of history is scored against the same time of day (+- 15 min)
    on up to `baseline_days` earlier days, so a routine daily peak scores as usual. Before that
    a rolling window of the previous `rolling_steps` stands in.
    """
    floor = scale_floor(values, cfg) if floor is None else floor
    before = values[:start] if start else values
    floor = np.maximum(floor, day_over_day_scale(before, cfg.day_quantile))
    offsets = seasonal_offsets(cfg, steps_per_day)
    out = np.full((values.shape[0] - start, *values.shape[1:]), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: no baseline, no score
        for t in range(start, values.shape[0]):
            if t >= steps_per_day + cfg.slot_halfwidth:
                idx = t - offsets
                history = values[idx[idx >= 0]]
            else:
                history = values[max(0, t - cfg.rolling_steps) : t]
            if len(history):
                out[t - start] = _robust(history, values[t], floor)
    return out


def common_part(z: FloatArray, profiles: Sequence[str], cfg: CascadeSettings) -> FloatArray:
    """Return the part of z (T, S, M) each server shares with its peers: the median score of its
    profile when that has `profile_min_servers` servers, else of the whole fleet (0 when the
    fleet has fewer than `common_min_servers`)."""
    common = np.zeros_like(z)
    if not cfg.remove_common or len(profiles) < cfg.common_min_servers:
        return common
    names = np.asarray(profiles)
    fleet: FloatArray | None = None
    for profile in np.unique(names):
        own = np.flatnonzero(names == profile)
        if 0 < cfg.profile_min_servers <= len(own):
            common[:, own] = np.nanmedian(z[:, own], axis=1, keepdims=True)
        else:
            fleet = np.nanmedian(z, axis=1, keepdims=True) if fleet is None else fleet
            common[:, own] = fleet
    return np.nan_to_num(common)


def anomaly_signal(z: FloatArray, cfg: CascadeSettings, profiles: Sequence[str]) -> FloatArray:
    """Turn raw z (T, S, M) into the anomaly signal: common part removed, smoothed, one-sided.

    Subtracting the median score of the server's peers removes moves they make together: the
    whole fleet (a holiday, a busier day than last week) or a whole profile (web servers quiet
    at the weekend, a batch that runs on working days only). A cascade reaches the dependents
    of one upstream server, a few of a profile, which stay apart from the rest. The median
    filter needs `smooth_steps` consistent samples before a score counts.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        z = z - common_part(z, profiles, cfg)
        k = cfg.smooth_steps
        if k > 1 and z.shape[0] >= k:
            windows = np.lib.stride_tricks.sliding_window_view(z, k, axis=0)
            smooth = np.concatenate([z[: k - 1], np.nanmedian(windows, axis=-1)], axis=0)
        else:
            smooth = z
    signal = np.abs(smooth) if cfg.direction == "both" else np.maximum(smooth, 0.0)
    return np.nan_to_num(signal, nan=0.0)
