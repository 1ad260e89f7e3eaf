"""The "ets" kind: damped-trend exponential smoothing of each server's seasonally adjusted metrics.

Per server and target: a daily profile (the median of each 5-minute slot over the last
`season_days` days) is taken out, an ETS(A,Ad,N) model (additive error, additive damped trend,
statsmodels' `ETSModel`) follows the rest, and the forecast is the smoothed level and damped
trend plus the profile, with the model's Gaussian prediction intervals as quantiles.

Training estimates the smoothing parameters (alpha, beta, phi) per target with statsmodels on a
sample of servers and keeps their medians; prediction runs the ETS recursion with those
parameters for every server at once in numpy (statsmodels fits one series per call at ~0.1-1 s
each: 6,000 calls for 1,000 servers, where this takes ~1.5 s of CPU with the gridding). The
recursion is checked against statsmodels' own `smooth` in tests/test_forecast_ets.py. The
checkpoint is JSON (configuration and parameters): no pickle.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import asdict, dataclass, fields
from importlib import metadata as pkg_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from argus.catalogue import TARGETS
from argus.errors import InvalidInputError
from argus.forecast.base import (
    HORIZON,
    QUANTILES,
    FitReport,
    ForecastSet,
    TrainOptions,
    TrainProgress,
    concat_forecasts,
    finish_values,
)
from argus.forecast.baseline import SeasonalNaive
from argus.forecast.frame import (
    DAY_STEPS,
    STEP_NS,
    ServerSeries,
    server_series,
    steps_to_timestamps,
    to_grid,
)
from argus.forecast.grid import Buckets, bucket_frame

# Used where statsmodels cannot estimate a target (constant on every sampled server).
DEFAULT_PARAMS = {"alpha": 0.5, "beta": 0.0, "phi": 0.9}
# The initial level is the mean of the first 6 h smoothed (a small alpha keeps it for long).
_INIT_STEPS = DAY_STEPS // 4


@dataclass(frozen=True)
class ETSConfig:
    """The kind's settings (metadata.json "config")."""

    season_days: int = 7  # days whose same-slot median is the daily profile
    fit_days: int = 3  # days of adjusted history the level and trend are smoothed over
    fit_servers: int = 12  # servers per target whose series estimate the parameters
    min_history: int = DAY_STEPS  # observed buckets below which the fallback serves a server
    horizon: int = HORIZON
    quantiles: tuple[float, ...] = QUANTILES

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ETSConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInputError(f"unknown ETS settings {unknown}; known: {sorted(known)}")
        settings = dict(data)
        if "quantiles" in settings:
            settings["quantiles"] = tuple(float(q) for q in settings["quantiles"])
        cfg = cls(**settings)
        if min(cfg.season_days, cfg.fit_days, cfg.fit_servers, cfg.horizon) < 1:
            raise InvalidInputError("ETS settings must be positive")
        return cfg

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["quantiles"] = list(self.quantiles)
        return data

    @property
    def window(self) -> int:
        """Grid steps of history a forecast reads (whole days, so slots line up)."""
        return max(self.season_days, self.fit_days) * DAY_STEPS


# -- the numeric core (one row per server and target) -------------------------------------


def adjust(window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(adjusted, profile): `window` (rows, steps; steps a multiple of a day, NaN = no sample)
    less each row's daily profile, and that profile by position in the day (rows, DAY_STEPS)."""
    rows, steps = window.shape
    days = window.reshape(rows, steps // DAY_STEPS, DAY_STEPS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slots and rows
        profile = np.nanmedian(days, axis=1)
        flat = np.nanmean(window, axis=1, keepdims=True)
    profile = np.where(np.isfinite(profile), profile, flat)
    adjusted = (days - profile[:, None, :]).reshape(rows, steps)
    return adjusted, profile


def smooth(
    y: np.ndarray, alpha: np.ndarray, beta: np.ndarray, phi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ETS(A,Ad,N) over each row of `y` (rows, steps): the last level, trend and the variance
    of the one-step errors. NaN observations carry the state forward (no correction)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        level = np.nanmean(y[:, :_INIT_STEPS], axis=1)
        level = np.where(np.isfinite(level), level, np.nanmean(y, axis=1))
    level = np.nan_to_num(level)
    trend = np.zeros_like(level)
    squares = np.zeros_like(level)
    count = np.zeros_like(level)
    for t in range(y.shape[1]):
        expected = level + phi * trend
        error = y[:, t] - expected
        seen = np.isfinite(error)
        error = np.where(seen, error, 0.0)
        level = expected + alpha * error
        trend = phi * trend + beta * error
        squares += error**2
        count += seen
    return level, trend, squares / np.maximum(count, 1)


def forecast_paths(
    level: np.ndarray,
    trend: np.ndarray,
    sigma2: np.ndarray,
    params: tuple[np.ndarray, np.ndarray, np.ndarray],
    horizon: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean (rows, horizon) and forecast standard deviation of ETS(A,Ad,N), h = 1..horizon
    (Hyndman et al., Forecasting with Exponential Smoothing, 2008, table 6.1, class 1)."""
    alpha, beta, phi = (p[:, None] for p in params)
    h = np.arange(1, horizon + 1)[None, :]
    damped = np.where(
        np.abs(1 - phi) < 1e-9, h, phi * (1 - phi**h) / np.where(phi == 1, 1, 1 - phi)
    )
    mean = level[:, None] + damped * trend[:, None]
    c = alpha + beta * damped  # c_j for j = 1..horizon
    spread = np.concatenate([np.zeros((c.shape[0], 1)), np.cumsum(c[:, :-1] ** 2, axis=1)], axis=1)
    return mean, np.sqrt(sigma2[:, None] * (1 + spread))


def estimate(series: list[np.ndarray]) -> dict[str, float]:
    """Median statsmodels ETS(A,Ad,N) parameters over adjusted series (gaps interpolated)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    found = []
    for y in series:
        idx = np.flatnonzero(np.isfinite(y))
        if len(idx) < DAY_STEPS or np.nanstd(y) < 1e-9:
            continue
        filled = np.interp(np.arange(idx[0], idx[-1] + 1), idx, y[idx])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter of the optimiser
            try:
                res = ETSModel(pd.Series(filled), error="add", trend="add", damped_trend=True).fit(
                    disp=False
                )
            except (ValueError, np.linalg.LinAlgError):
                continue
        p = dict(zip(res.model.param_names, np.asarray(res.params), strict=True))
        found.append((p["smoothing_level"], p["smoothing_trend"], p["damping_trend"]))
    if not found:
        return dict(DEFAULT_PARAMS)
    alpha, beta, phi = np.median(np.asarray(found, dtype=np.float64), axis=0)
    return {"alpha": float(alpha), "beta": float(beta), "phi": float(phi)}


# -- the forecaster -----------------------------------------------------------------------


def _windows(series: list[ServerSeries], steps: int) -> np.ndarray:
    """(servers, targets, steps): each server's last `steps` buckets, NaN-padded on the left."""
    out = np.full((len(series), len(TARGETS), steps), np.nan)
    for i, s in enumerate(series):
        tail = s.values[-steps:]
        out[i, :, steps - len(tail) :] = tail.T
    return out


class ETSForecaster:
    """Damped-trend exponential smoothing per server and target around a daily profile."""

    kind = "ets"

    def __init__(
        self,
        config: ETSConfig | None = None,
        *,
        params: dict[str, dict[str, float]] | None = None,
        model_name: str = "unsaved",
    ) -> None:
        self.config = config or ETSConfig()
        self.params = params  # per target: alpha, beta, phi (None: not trained yet)
        self.model_name = model_name
        self.metadata: dict[str, Any] = {}
        self.fallback = SeasonalNaive(horizon=self.config.horizon, quantiles=self.config.quantiles)

    @property
    def name(self) -> str:
        return f"ets:{self.model_name}"

    @property
    def quantiles(self) -> tuple[float, ...]:
        return self.config.quantiles

    def config_dict(self) -> dict[str, Any]:
        return self.config.to_dict()

    def reference_statistics(self) -> dict[str, Any]:
        found = self.metadata.get("reference")
        return found if isinstance(found, dict) else {}

    def fit(self, frame: pd.DataFrame, *, options: TrainOptions | None = None) -> FitReport:
        """Estimate each target's parameters on the data before the validation split."""
        options = options or TrainOptions()
        started = time.monotonic()
        grid = to_grid(frame)
        first, last = int(grid["time_idx"].min()), int(grid["time_idx"].max())
        cutoff = last - max(self.config.horizon, int((last - first) * options.val_fraction))
        held_out = options.val_fraction > 0 and cutoff - first >= 2 * DAY_STEPS
        train = grid[grid["time_idx"] <= cutoff] if held_out else grid
        series = server_series(train)
        rng = np.random.default_rng(options.seed)
        picks = sorted(rng.permutation(len(series))[: self.config.fit_servers])
        adjusted, _ = adjust(
            _windows([series[i] for i in picks], self.config.window).reshape(-1, self.config.window)
        )
        fit_steps = self.config.fit_days * DAY_STEPS
        rows = adjusted.reshape(len(picks), len(TARGETS), -1)[:, :, -fit_steps:]
        self.params = {}
        for k, target in enumerate(TARGETS):
            self.params[target] = estimate(list(rows[:, k]))
            if options.progress is not None:  # one "batch" per target: what training-status shows
                options.progress(
                    TrainProgress(1, 1, k + 1, len(TARGETS), None, None, time.monotonic() - started)
                )
        return FitReport(
            epochs_run=0,
            best_val_loss=None,
            seconds=round(time.monotonic() - started, 2),
            train_windows=len(picks) * len(TARGETS),
            val_windows=0,
            train_start=str(pd.Timestamp(first * STEP_NS)),
            train_end=str(pd.Timestamp(int(train["time_idx"].max()) * STEP_NS)),
            validation_from=str(pd.Timestamp((cutoff + 1) * STEP_NS)) if held_out else None,
        )

    @property
    def history_steps(self) -> int:
        """Buckets of history a forecast reads (the serving layer grids at least this many)."""
        return self.config.window

    def predict(self, frame: pd.DataFrame) -> ForecastSet:
        """Forecast the horizon after each server's last sample, all servers at once."""
        buckets = bucket_frame(frame, self.config.window)
        part = self.predict_buckets(buckets)
        done = set() if part is None else set(part.servers)
        parts = [] if part is None else [part]
        rest = [buckets.series(i) for i, n in enumerate(buckets.names) if n not in done]
        if rest:
            parts.append(self.fallback.predict_series(rest))
        return concat_forecasts(parts, buckets.names)

    def predict_buckets(self, buckets: Buckets) -> ForecastSet | None:
        """The forecasts of the servers with enough history among `buckets` (gridded with at
        least `history_steps`), without the fallback; None when there is none."""
        if self.params is None:
            raise RuntimeError("the ETS model has not been trained or loaded")
        recent = buckets.recent(self.config.window)
        ready = np.flatnonzero(np.isfinite(recent[:, :, 0]).sum(axis=1) >= self.config.min_history)
        return self._forecast(recent[ready], buckets, ready) if len(ready) else None

    def _forecast(self, recent: np.ndarray, buckets: Buckets, rows: np.ndarray) -> ForecastSet:
        """`recent` (servers, steps, targets): the window of `buckets`' servers at `rows`."""
        cfg, n = self.config, len(rows)
        window = recent.transpose(0, 2, 1).reshape(n * len(TARGETS), cfg.window)
        adjusted, profile = adjust(window)
        assert self.params is not None  # noqa: S101 - checked by predict
        alpha, beta, phi = (
            np.tile([self.params[t][p] for t in TARGETS], n) for p in ("alpha", "beta", "phi")
        )
        params = (alpha, beta, phi)
        level, trend, sigma2 = smooth(adjusted[:, -cfg.fit_days * DAY_STEPS :], *params)
        mean, sd = forecast_paths(level, trend, sigma2, params, cfg.horizon)
        slots = np.arange(cfg.horizon) % DAY_STEPS  # the window ends where a day's slots end
        mean = mean + profile[:, slots]
        z = norm.ppf(np.asarray(cfg.quantiles))
        values = mean[..., None] + sd[..., None] * z  # (rows, horizon, quantiles)
        values = values.reshape(n, len(TARGETS), cfg.horizon, len(cfg.quantiles))
        last = buckets.time_idx[buckets.starts[rows + 1] - 1]
        return ForecastSet(
            servers=tuple(buckets.names[i] for i in rows),
            targets=TARGETS,
            quantiles=cfg.quantiles,
            timestamps=steps_to_timestamps(last[:, None] + 1 + np.arange(cfg.horizon)),
            values=finish_values(values, TARGETS),
            models=(self.name,) * n,
        )

    def write_checkpoint(self, path: Path) -> None:
        if self.params is None:
            raise RuntimeError("only a trained model can be written")
        body = {"config": self.config.to_dict(), "params": self.params}
        path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")


# -- the registry's entry points ----------------------------------------------------------


def create(config: dict[str, Any]) -> ETSForecaster:
    return ETSForecaster(ETSConfig.from_dict(config))


def load(blob: bytes, metadata: dict[str, Any], name: str) -> ETSForecaster:
    body = json.loads(blob.decode("utf-8"))
    params = {t: {k: float(v) for k, v in body["params"][t].items()} for t in TARGETS}
    model = ETSForecaster(ETSConfig.from_dict(body["config"]), params=params, model_name=name)
    model.metadata = metadata
    return model


def describe(model: ETSForecaster) -> dict[str, Any]:
    return {
        "parameters": model.params,
        "libraries": {lib: pkg_metadata.version(lib) for lib in ("statsmodels", "numpy", "pandas")},
    }
