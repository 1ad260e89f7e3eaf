"""What a trained TFT learns from its own forecasts of the end of its data: blend and bands.

After training, the model forecasts from origins every 3 h inside its validation split (all
before any period it is evaluated on), and every 6 h over the rest of the last week of its
data, and learns, per target and horizon block:

1. from all of them, the blend of its median with the naive and seasonal-naive points
   (`argus.forecast.blend`). A week holds every kind of day; a validation split of 15 % of a
   fortnight can be a weekend alone. The earlier forecasts are of days the network was trained
   on, but the benchmarks' networks were shown fewer than one in ten of the windows those days
   hold (40 batches of 64 per epoch), and the blend only chooses three weights per block;
2. from the validation forecasts only, for each quantile, the factor by which its distance from
   the (blended) median must be scaled to cover its nominal share of the actuals
   (split-conformal style: band widths are where in-sample errors would mislead).

Both go into one record, stored in metadata.json (`training.calibration`) and applied by
`TFTForecaster.predict`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from argus.catalogue import TARGETS
from argus.forecast.base import clip_values
from argus.forecast.blend import Blend, anchor_points, learn_blend
from argus.forecast.combine import history_steps
from argus.forecast.frame import DAY_STEPS, STEP_NS, ServerSeries, grid_to_feed, server_series

if TYPE_CHECKING:
    import pandas as pd

    from argus.forecast.tft import TFTForecaster

# Horizon blocks (last step of each) with their own factors: spread errors grow with horizon.
CALIBRATION_BLOCKS = (12, 36, 72, 96)
CALIBRATION_EVERY = 36  # a validation origin every 3 h ...
CALIBRATION_MAX_ORIGINS = 48  # ... at most this many, evenly spread
CALIBRATION_MIN_SAMPLES = 50
CALIBRATION_LIMITS = (0.3, 6.0)  # a factor outside this is a sign of a broken split, not skill
# The blend is chosen over at least the last week of the data: on the simulator's validation
# split (a Saturday and a Sunday) naive got half the weight at 8 h, the worst forecast on
# working days (measured on 2026-11-29; git log -S "Blend and calibration").
BLEND_DAYS = 7


@dataclass(frozen=True)
class ValidationForecasts:
    """The network's forecasts from validation origins with what they are scored against."""

    values: np.ndarray  # (n, targets, horizon, quantiles), clipped and sorted, no calibration
    anchors: np.ndarray  # (n, targets, horizon, 2) naive and seasonal-naive points
    actual: np.ndarray  # (n, targets, horizon), NaN where not observed
    scale: np.ndarray  # (n, targets) mean absolute one-step difference of the last day
    servers: np.ndarray  # (n,) the server each forecast is of
    origins: np.ndarray  # (n,) the grid step each forecast starts at


def learn_calibration(
    model: TFTForecaster, grid: pd.DataFrame, start: int, blend: bool = True
) -> dict[str, Any] | None:
    """The calibration record: the blend (from forecasts of the last `BLEND_DAYS` days, or from
    `start` if that is earlier), then the spread factors (from forecasts made after `start`).

    `model` must forecast uncalibrated while this runs. None: no forecast to learn from.
    """
    cfg = model.config
    first, last = int(grid["time_idx"].min()), int(grid["time_idx"].max())
    origins = _origins(start, last, CALIBRATION_EVERY)
    # an origin needs the encoder and a day before it (fewer seasonal days than served is fine)
    ready = first + cfg.max_encoder_length + DAY_STEPS
    blend_from = max(ready, min(start, last - BLEND_DAYS * DAY_STEPS))
    earlier = _origins(blend_from, start, 2 * CALIBRATION_EVERY) if blend else []
    found = validation_forecasts(model, grid, earlier + origins)
    if found is None:
        return None
    ends = tuple(b for b in CALIBRATION_BLOCKS if b < cfg.horizon) + (cfg.horizon,)
    values = found.values
    learnt = None
    if blend:
        median = values[..., cfg.quantiles.index(0.5)]
        learnt = learn_blend(
            median, found.anchors, found.actual, found.scale, found.servers, TARGETS, ends
        )
        shift = learnt.medians(median, found.anchors, TARGETS) - median
        values = clip_values(values + shift[..., None], TARGETS)  # as apply_blend serves them
    held_out = found.origins >= start  # spreads: only forecasts the network was not fitted on
    if not held_out.any():
        return None
    record: dict[str, Any] = {
        "method": "quantile spread scaling on validation residuals"
        if learnt is None
        else "blend of the median over the last week, then quantile spread scaling",
        "from": _stamp(start),
        "origins": len(origins),
        "forecasts": int(held_out.sum()),
        "quantiles": list(cfg.quantiles),
        "block_ends": list(ends),
        "factors": spread_factors(
            values[held_out], found.actual[held_out], cfg.quantiles, ends
        ),
    }
    if learnt is not None:
        record["blend"] = learnt.to_record()
        record["blend"].update(
            {"from": _stamp(min(earlier + origins)), "forecasts": int(len(values))}
        )
    return record


def apply_spread_factors(
    values: np.ndarray,
    record: dict[str, Any] | None,
    quantiles: tuple[float, ...],
    targets: tuple[str, ...],
) -> np.ndarray:
    """`values` (servers, targets, steps, quantiles) with each quantile's distance from the
    median scaled by the record's factor for its target and horizon block (median unchanged).

    After sorting every quantile is on its side of the median, so positive factors keep it
    there. A record learnt for other quantiles (or none) leaves `values` as they are.
    """
    if not record or list(record.get("quantiles", [])) != list(quantiles):
        return values
    median = values[..., [quantiles.index(0.5)]]
    factors = np.ones(values.shape[1:])  # (targets, steps, quantiles)
    ends = [0, *record["block_ends"]]
    for t, target in enumerate(targets):
        for b, (lo, hi) in enumerate(zip(ends[:-1], ends[1:], strict=True)):
            if target in record["factors"]:
                factors[t, lo:hi] = np.asarray(record["factors"][target][b])
    return median + factors[None] * (values - median)


def blend_of(record: dict[str, Any] | None) -> Blend | None:
    """The blend a calibration record carries (None: the network's median alone)."""
    return Blend.from_record((record or {}).get("blend"))


def _origins(start: int, last: int, every: int) -> list[int]:
    # Forecasts from origins after `start` are scored on held-out actuals only; a horizon
    # running past the data is scored on the steps it has.
    origins = list(range(start, last, every))
    if len(origins) > CALIBRATION_MAX_ORIGINS:
        picks = np.linspace(0, len(origins) - 1, CALIBRATION_MAX_ORIGINS).round().astype(int)
        origins = [origins[i] for i in np.unique(picks)]
    return origins


def spread_factors(
    values: np.ndarray,
    actual: np.ndarray,
    quantiles: tuple[float, ...],
    ends: tuple[int, ...],
) -> dict[str, list[list[float]]]:
    """Spread factors s (target, horizon block, quantile).

    For quantile q with predicted distance d = Q_q - median and realised r = y - median, the
    factor is the empirical quantile of r / d that makes `median + s * d` cover a share q of
    the actuals. Median forecasts are unchanged, so point accuracy (MASE) is too.
    """
    q_mid = quantiles.index(0.5)
    median = values[..., [q_mid]]
    spread = values - median
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = (actual[..., None] - median) / spread
    ratios[np.abs(spread) < 1e-9] = np.nan
    factors: dict[str, list[list[float]]] = {}
    for t, target in enumerate(TARGETS):
        factors[target] = []
        for lo, hi in zip([0, *ends[:-1]], ends, strict=True):
            row = []
            for k, q in enumerate(quantiles):
                r = ratios[:, t, lo:hi, k].ravel()
                r = r[np.isfinite(r)]
                if k == q_mid or len(r) < CALIBRATION_MIN_SAMPLES:
                    row.append(1.0)
                    continue
                s = float(np.quantile(r, q if q > 0.5 else 1.0 - q))
                row.append(round(float(np.clip(s, *CALIBRATION_LIMITS)), 4))
            factors[target].append(row)
    return factors


def _before(series: ServerSeries, origin: int, steps: int) -> np.ndarray:
    """(steps, targets) of the series' buckets just before `origin`, NaN where none."""
    end = origin - series.start
    out = np.full((steps, series.values.shape[1]), np.nan)
    tail = series.values[max(0, end - steps) : max(0, end)]
    if len(tail):
        out[steps - len(tail) :] = tail
    return out


def validation_forecasts(
    model: TFTForecaster, grid: pd.DataFrame, origins: list[int]
) -> ValidationForecasts | None:
    """Forecast from every origin the servers live at it; keep the network's own forecasts."""
    cfg = model.config
    series = {s.name: s for s in server_series(grid)}
    values, recent, actual, names, starts = [], [], [], [], []
    for origin in origins:
        window_rows = (grid["time_idx"] < origin) & (
            grid["time_idx"] >= origin - cfg.history_steps - 1
        )
        window = grid[window_rows]
        live = set(window.loc[window["time_idx"] == origin - 1, "server"])
        if not live:
            continue
        fs = model.predict(grid_to_feed(window[window["server"].isin(live)]))
        for row, name in enumerate(fs.servers):
            if fs.models[row] != model.name:  # the fallback's or a drift override's
                continue
            s = series[name]
            pos = origin - s.start + np.arange(cfg.horizon)
            truth = np.full((cfg.horizon, len(TARGETS)), np.nan)
            ok = pos < len(s.values)
            truth[ok] = s.values[pos[ok]]
            values.append(fs.values[row])
            recent.append(_before(s, origin, history_steps()))
            actual.append(truth.T)
            names.append(name)
            starts.append(origin)
    if not values:
        return None
    history = np.stack(recent)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN history: no scale
        scale = np.nanmean(np.abs(np.diff(history[:, -DAY_STEPS:], axis=1)), axis=1)
    return ValidationForecasts(
        values=np.stack(values),
        anchors=anchor_points(history, np.stack(values)[..., cfg.quantiles.index(0.5)]),
        actual=np.stack(actual),
        scale=scale,
        servers=np.array(names),
        origins=np.array(starts),
    )


def _stamp(step: int) -> str:
    import pandas as pd

    return str(pd.Timestamp(step * STEP_NS))
