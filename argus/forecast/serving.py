"""Any model as the daemon serves it: fallback, combination, calibrated bands, the trend rule.

A model (`Forecaster`: the TFT, or any other kind) forecasts the servers it can; everything
that turns those forecasts into what Argus serves lives here, the same for every kind:

1. The model's bands get the spread factors learnt on its validation split at training
   (`argus.forecast.calibration`).
2. The median becomes a per-server combination of the model's median and cheap candidates,
   weighted by their realised errors on that server (`argus.forecast.combine`); a server the
   model does not serve (too little history, no model) gets the candidates alone.
3. The band is centred on that median: the model's band shape where it served, else as wide
   as the combined median's own realised error on that server; its width multiplied by the
   server's adaptive factor (realised P10-P90 coverage) and never narrower than the series'
   own step-to-step noise.
4. The trend rule replaces a target's forecast where a significant, sustained climb is under
   way (`argus.forecast.trend`).

`predict` learns: it scores the forecasts it made earlier against the actuals that arrived since
and keeps this one for scoring; a server seen for the first time first learns from its recent
history. `forecast(..., learn=False)` serves without learning (explanations' what-if copies
must not teach it anything).
"""

from __future__ import annotations

from collections.abc import Mapping
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from argus.catalogue import TARGETS
from argus.forecast import combine
from argus.forecast.base import (
    BASELINE_MODEL,
    HORIZON,
    QUANTILES,
    Calibrated,
    Forecaster,
    ForecastSet,
    HasMetadata,
    PredictsBuckets,
    TrainOptions,
    finish_values,
)
from argus.forecast.calibration import apply_spread_factors, blend_of
from argus.forecast.frame import DAY_STEPS, steps_to_timestamps
from argus.forecast.grid import Buckets, bucket_frame, buckets_of
from argus.forecast.trend import TrendRule, apply_trends_to, history_steps
from argus.grid import FleetGrid

if TYPE_CHECKING:
    import pandas as pd

# The narrowest P10-P90 half-width, in each target's units: a band never has zero width.
# Small: an idle VM's CPU moves by hundredths of a percent, and a band of +-0.5 around it would
# hold every actual whatever happened (coverage far above what P10-P90 promises).
MIN_HALF_WIDTH = {"load": 0.05}
MIN_HALF_WIDTH_PCT = 0.1
_Z90 = NormalDist().inv_cdf(0.9)
DEFAULT_TREND = TrendRule()
# A server seen for the first time learns from forecasts of its last WARM_DAYS of history, one
# every WARM_EVERY buckets (`ServingForecaster._learn_history`). 5 days: in the daemon's 8-day
# window the earliest of them still has the 3 days the usual level needs. On the tuning data
# 2 days gave the simulator's memory at 8 h 0.80-0.92 relative MASE against 0.65-0.79, and
# hourly origins nothing over two-hourly ones at twice the cost.
WARM_DAYS = 5.0
WARM_EVERY = 24
# Servers the learnt state may hold beyond twice the fleet before those gone are forgotten.
FORGET_SLACK = 100


class ServingForecaster:
    """Wraps a model (None: no trained model) with the serving steps above."""

    def __init__(
        self,
        model: Forecaster | None = None,
        *,
        trend: TrendRule | None = DEFAULT_TREND,
        horizon: int = HORIZON,
        quantiles: tuple[float, ...] = QUANTILES,
    ) -> None:
        self.model = model
        self.trend = trend  # None: no trend rule (tests of the rest)
        self.horizon = horizon
        self.quantiles = quantiles
        self.state = combine.OnlineState(len(TARGETS))

    @property
    def name(self) -> str:
        return self.model.name if self.model is not None else BASELINE_MODEL

    def adopt(self, previous: ServingForecaster) -> None:
        """Take over what `previous` (the layer this one replaces) learnt, except its model's
        realised errors: the weights of the simple forecasters and the band factors still hold
        for a new model, its own errors do not."""
        self.state = previous.state
        self.state.forget_candidate(combine.MODEL)

    @property
    def metadata(self) -> dict[str, Any]:
        """The model's metadata.json (reference statistics for drift, scores, ...)."""
        return self.model.metadata if isinstance(self.model, HasMetadata) else {}

    @property
    def calibration(self) -> dict[str, Any] | None:
        """The model's training-time calibration record (blend prior, spread factors)."""
        return self.model.calibration if isinstance(self.model, Calibrated) else None

    def fit(self, frame: pd.DataFrame, *, options: TrainOptions | None = None) -> Any:
        """Train the model (serving itself learns online, from `predict`)."""
        return None if self.model is None else self.model.fit(frame, options=options)

    def predict(self, frame: pd.DataFrame | FleetGrid) -> ForecastSet:
        """Forecast every server of `frame`, learning from the actuals seen since last time."""
        return self.forecast(frame, learn=True)

    def forecast(
        self,
        frame: pd.DataFrame | FleetGrid,
        *,
        learn: bool = False,
        state_of: Mapping[str, str] | None = None,
    ) -> ForecastSet:
        """Serve the servers of `frame` (the window's grid, or a feed-schema frame); `state_of`
        maps a server to the one whose learnt weights and band factors it uses (an
        explanation's modified copies use the real server's)."""
        trend_steps = 0 if self.trend is None else history_steps(self.trend)
        own = max(combine.history_steps(), trend_steps, DAY_STEPS)
        model = self.model
        length = max(own, model.history_steps if isinstance(model, PredictsBuckets) else 0)
        if isinstance(frame, FleetGrid):
            buckets = buckets_of(frame, length)
        else:
            buckets = bucket_frame(frame, length)
        names = buckets.names
        recent = buckets.recent(own)
        last = buckets.time_idx[buckets.starts[1:] - 1]
        state_names = tuple((state_of or {}).get(s, s) for s in names)
        if learn and len(self.state.rows) > 2 * len(names) + FORGET_SLACK:
            self.state.keep_only(state_names)  # servers that left the fleet
        new = np.array([s not in self.state.rows for s in state_names], dtype=bool)
        rows = self.state.row_ids(state_names)
        if learn and new.any():
            self._learn_history(frame, buckets.names, new, rows[new], own)
        if learn:
            self.state.observe(rows, last, recent)
        raw, served = self._model_forecast(frame, buckets)
        cands = combine.candidates(recent, raw[..., self._q(0.5)] if raw is not None
                                   else np.full((len(names), len(TARGETS), self.horizon), np.nan))
        available = np.isfinite(cands[:, :, 0, :])
        weights = self.state.weights(rows, self._prior(), available)
        median = combine.combine(cands, weights)
        scale = combine.scales(recent)
        values = self._bands(median, raw, served, recent, rows, scale)
        if learn:
            bands = values[..., [self._q(0.1), self._q(0.9)]]
            self.state.record(rows, last, cands, median, bands, scale)
        models = tuple(self.name if ok else BASELINE_MODEL for ok in served)
        result = ForecastSet(
            servers=names,
            targets=TARGETS,
            quantiles=self.quantiles,
            timestamps=steps_to_timestamps(last[:, None] + np.arange(1, self.horizon + 1)),
            values=values,
            models=models,
        )
        if self.trend is None:
            return result
        return apply_trends_to(result, names, recent[:, -trend_steps:], self.trend)

    def _learn_history(
        self,
        frame: pd.DataFrame | FleetGrid,
        names: tuple[str, ...],
        which: np.ndarray,
        rows: np.ndarray,
        own: int,
    ) -> None:
        """The servers `which` (state `rows`) seen for the first time (a new server, every
        server after a restart) learn their weights and band widths from the history they
        arrive with: the cheap candidates and their combination are forecast from an origin
        every `WARM_EVERY` buckets over the last `WARM_DAYS` days and scored at once against
        the actuals that followed. (The model's own errors are not: it forecasts the live
        cycles only, and starts at its prior share.)"""
        extra = int(WARM_DAYS * DAY_STEPS)
        length = own + extra
        buckets = (buckets_of(frame, length) if isinstance(frame, FleetGrid)
                   else bucket_frame(frame, length))
        if buckets.names != names:  # the same window, so the same servers: never expected
            return
        long = buckets.recent(length)[which]
        last = buckets.time_idx[buckets.starts[1:] - 1][which]
        steps = np.array(combine.EVAL_STEPS)
        no_model = np.full((len(rows), len(TARGETS), self.horizon), np.nan)
        prior, unserved = self._prior(), np.zeros(len(rows), dtype=bool)
        # The usual level of a bucket reads only the week before it, the same from any origin:
        # computed once over the whole history instead of once per origin.
        span = combine.RECENT_STEPS + self.horizon
        usual = combine.usual_at(long, own - combine.RECENT_STEPS, length - own + span)
        for end in range(own, length, WARM_EVERY):  # the origin is just after `end - 1`
            recent = long[:, end - own : end]
            at_end = usual[:, end - own : end - own + span]
            cands = combine.candidates(recent, no_model, at_end)
            weights = self.state.weights(rows, prior, np.isfinite(cands[:, :, 0, :]))
            median = combine.combine(cands, weights)
            scale = combine.scales(recent)
            values = self._bands(median, None, unserved, recent, rows, scale)
            bands = values[..., [self._q(0.1), self._q(0.9)]]
            at = end + steps - 1
            actual = np.full((len(rows), len(steps), len(TARGETS)), np.nan)
            actual[:, at < length] = long[:, at[at < length]]
            origin = last - length + end  # the bucket `recent` ends at
            self.state.score_known(rows, origin, cands, median, bands, scale, actual)

    def _q(self, q: float) -> int:
        return self.quantiles.index(q)

    def _model_forecast(
        self, frame: pd.DataFrame | FleetGrid, buckets: Buckets
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """(n, T, H, Q) the model's calibrated quantiles in `buckets`' order (NaN where it did
        not serve a server) and which servers it served."""
        n = len(buckets.names)
        if self.model is None or n == 0:
            return None, np.zeros(n, dtype=bool)
        # a model that reads the grid itself is handed the one built here (no second gridding)
        model = self.model
        fs = model.predict_buckets(buckets) if isinstance(model, PredictsBuckets) else None
        if fs is None:
            fs = model.predict(frame.frame() if isinstance(frame, FleetGrid) else frame)
        out = np.full((n, len(TARGETS), self.horizon, len(self.quantiles)), np.nan)
        served = np.zeros(n, dtype=bool)
        values = apply_spread_factors(fs.values, self.calibration, fs.quantiles, fs.targets)
        for i, name in enumerate(buckets.names):
            try:
                row = fs.index(name)
            except KeyError:
                continue
            if fs.models[row] == self.model.name:
                out[i] = values[row]
                served[i] = True
        return out, served

    def _prior(self) -> np.ndarray:
        """(T, B, C) the fleet-level weights learnt at training (the model alone if none)."""
        prior = np.zeros((len(TARGETS), len(combine.BLOCK_ENDS), len(combine.CANDIDATES)))
        prior[..., combine.MODEL] = 1.0
        blend = blend_of(self.calibration)
        if blend is None:
            return prior
        ends = [0, *blend.block_ends]
        where = [combine.MODEL, combine.NAIVE, combine.USUAL]  # the blend's components
        for t, target in enumerate(TARGETS):
            for b, end in enumerate(combine.BLOCK_ENDS):
                k = int(np.searchsorted(ends[1:], end - 1, side="right"))
                found = blend.weights.get(target, [])
                if k < len(found):
                    prior[t, b] = 0.0
                    prior[t, b, where] = found[k]
        return prior

    def _bands(
        self,
        median: np.ndarray,
        raw: np.ndarray | None,
        served: np.ndarray,
        recent: np.ndarray,
        rows: np.ndarray,
        scale: np.ndarray,
    ) -> np.ndarray:
        """(n, T, H, Q) quantiles around `median`: the model's band shape where it served,
        else a normal band as wide as the combination's realised error on the server (the
        series' own h-step changes until it has some); scaled by the server's band factor,
        never narrower than its one-step noise."""
        n = len(recent)
        spread = np.zeros((n, len(TARGETS), self.horizon, len(self.quantiles)))
        if raw is not None and served.any():
            spread[served] = raw[served] - raw[served][..., [self._q(0.5)]]
        rest = np.flatnonzero(~served)
        z = np.array([NormalDist().inv_cdf(q) for q in self.quantiles]) / _Z90
        if len(rest):
            naive = combine.naive_half_width(recent[rest], self.horizon)
            width = self.state.realised_half_width(rows[rest], naive)
            spread[rest] = width[..., None] * z
        factor = self.state.band_factors(rows)[:, :, combine.STEP_BLOCKS[: self.horizon]]
        spread *= factor[..., None]
        floor = np.array([MIN_HALF_WIDTH.get(t, MIN_HALF_WIDTH_PCT) for t in TARGETS])
        floor = np.maximum(floor[None, :], scale)[:, :, None, None]  # (n, T, 1, 1)
        least = floor * np.abs(z)[None, None, None, :]
        spread = np.sign(z) * np.maximum(np.abs(spread), least)
        return finish_values(median[..., None] + spread, TARGETS)
