"""Baseline forecasters (numpy): naive (last value) and seasonal naive (same time a day ago).

Both attach empirical quantiles of their own past errors on the server's history, so their
intervals are honest about how well the rule has worked for that server. Seasonal naive is the
fallback that serves servers the TFT cannot yet serve, and the benchmark every model must beat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from argus.catalogue import TARGETS
from argus.forecast.base import BASELINE_MODEL, HORIZON, QUANTILES, ForecastSet, TrainOptions
from argus.forecast.base import finish_values as _finish
from argus.forecast.frame import (
    DAY_STEPS,
    ServerSeries,
    forward_fill,
    server_series,
    steps_to_timestamps,
)
from argus.forecast.frame import to_grid as _to_grid
from argus.forecast.trend import TrendRule, apply_trends

if TYPE_CHECKING:
    import pandas as pd

MIN_ERRORS = 12  # fewer past errors than this and a quantile estimate is noise
ERROR_WINDOW = 7 * DAY_STEPS  # past errors come from the last week: recent behaviour matters
# Horizons at which naive errors are measured; the rest are interpolated (cost ~ 8, not 96).
_ANCHOR_STEPS = (1, 2, 3, 6, 12, 24, 48, 96, 192, 288)


def _error_quantiles(errors: np.ndarray, quantiles: np.ndarray) -> np.ndarray | None:
    """(targets, quantiles) empirical error quantiles around the median; None if too few.

    Centred on the median error so that the P50 is the rule's own point forecast (naive means
    "the last value", not "the last value plus the typical drift").
    """
    finite = errors[np.isfinite(errors).all(axis=1)]
    if len(finite) < MIN_ERRORS:
        return None
    return (np.quantile(finite, quantiles, axis=0) - np.median(finite, axis=0)).T


def _naive_error_quantiles(hist: np.ndarray, horizon: int, quantiles: np.ndarray) -> np.ndarray:
    """(targets, horizon, quantiles) quantiles of past h-step changes, for h = 1..horizon."""
    anchors: list[int] = []
    found: list[np.ndarray] = []
    for h in (a for a in _ANCHOR_STEPS if a <= max(horizon, 1)):
        q = _error_quantiles(hist[h:] - hist[:-h], quantiles) if len(hist) > h else None
        if q is None:
            break
        anchors.append(h)
        found.append(q)
    steps = np.arange(1, horizon + 1)
    if not found:
        return np.zeros((hist.shape[1], horizon, len(quantiles)))
    stack = np.stack(found, axis=1)  # (targets, anchors, quantiles)
    out = np.empty((hist.shape[1], horizon, len(quantiles)))
    for t in range(stack.shape[0]):
        for k in range(stack.shape[2]):
            out[t, :, k] = np.interp(steps, anchors, stack[t, :, k])
    # Beyond the last measurable horizon, spread grows like a random walk's: sqrt(h).
    beyond = steps > anchors[-1]
    out[:, beyond] *= np.sqrt(steps[beyond] / anchors[-1])[None, :, None]
    return out


def forecast_series(
    series: ServerSeries, horizon: int, quantiles: tuple[float, ...], seasonal: bool
) -> np.ndarray:
    """(targets, horizon, quantiles) forecast of one server after its last bucket."""
    filled = forward_fill(series.values[-(ERROR_WINDOW + DAY_STEPS + horizon) :])
    raw = series.values[-(ERROR_WINDOW + DAY_STEPS + horizon) :]
    qs = np.asarray(quantiles, dtype=np.float64)
    last = filled[-1]
    if seasonal and len(filled) >= DAY_STEPS:
        # step h (1-based) is the bucket h - 288 after the last one: same time yesterday
        point = filled[len(filled) - DAY_STEPS : len(filled) - DAY_STEPS + horizon]
        if len(point) < horizon:  # horizons beyond a day repeat the last day
            point = np.resize(point, (horizon, point.shape[1]))
        spread = _error_quantiles(raw[DAY_STEPS:] - raw[:-DAY_STEPS], qs)
        if spread is not None:
            return point.T[:, :, None] + spread[:, None, :]
        naive_spread = _naive_error_quantiles(raw, horizon, qs)
        return point.T[:, :, None] + naive_spread
    return last[:, None, None] + _naive_error_quantiles(raw, horizon, qs)


class NaiveForecaster:
    """Naive (last value) or seasonal naive (same time one day earlier) with error quantiles.

    Seasonal naive falls back to naive for a server with less than a day of history.
    """

    def __init__(
        self,
        *,
        seasonal: bool,
        horizon: int = HORIZON,
        quantiles: tuple[float, ...] = QUANTILES,
        label: str | None = None,
        trend: TrendRule | None = None,
    ) -> None:
        self.seasonal = seasonal
        # None keeps the pure rule (the benchmark); the serving fallback sets a TrendRule
        self.trend = trend
        self.horizon = horizon
        self.quantiles = quantiles
        self.name = "seasonal_naive" if seasonal else "naive"
        self.label = label or (BASELINE_MODEL if seasonal else "naive")

    def fit(self, frame: pd.DataFrame, *, options: TrainOptions | None = None) -> None:
        """Nothing to learn: the rule reads each server's own history at predict time."""

    def predict(self, frame: pd.DataFrame) -> ForecastSet:
        return self.predict_series(server_series(_to_grid(frame)))

    def predict_series(self, series: list[ServerSeries]) -> ForecastSet:
        """Forecast already-gridded servers (the TFT's fallback path uses this)."""
        n = len(series)
        values = np.empty((n, len(TARGETS), self.horizon, len(self.quantiles)))
        stamps = np.empty((n, self.horizon), dtype="datetime64[ns]")
        for i, s in enumerate(series):
            values[i] = forecast_series(s, self.horizon, self.quantiles, self.seasonal)
            stamps[i] = steps_to_timestamps(s.last + np.arange(1, self.horizon + 1))
        forecast = ForecastSet(
            servers=tuple(s.name for s in series),
            targets=TARGETS,
            quantiles=self.quantiles,
            timestamps=stamps,
            values=_finish(values, TARGETS),
            models=(self.label,) * n,
        )
        return apply_trends(forecast, series, self.trend)


class SeasonalNaive(NaiveForecaster):
    """The seasonal-naive fallback: same time one day earlier (naive under a day of history)."""

    def __init__(
        self,
        *,
        horizon: int = HORIZON,
        quantiles: tuple[float, ...] = QUANTILES,
        trend: TrendRule | None = None,
    ) -> None:
        super().__init__(seasonal=True, horizon=horizon, quantiles=quantiles, trend=trend)


class Naive(NaiveForecaster):
    """The naive forecaster: the last value, for every step."""

    def __init__(self, *, horizon: int = HORIZON, quantiles: tuple[float, ...] = QUANTILES) -> None:
        super().__init__(seasonal=False, horizon=horizon, quantiles=quantiles)
