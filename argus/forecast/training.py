"""Train (or continue training) a model of any kind on a feed-schema frame, score it, save it,
activate it.

The one entry point for `argus train` and for the daemon's training child process; the kind's
own work is behind the registry (`argus.forecast.registry`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from argus.catalogue import CATALOGUE_VERSION, TARGETS
from argus.errors import InvalidInputError
from argus.forecast import artifacts, registry
from argus.forecast.backtest import backtest, rolling_origins
from argus.forecast.base import Forecaster, Trainable, TrainOptions
from argus.forecast.baseline import Naive, SeasonalNaive
from argus.forecast.frame import DAY_STEPS, to_grid
from argus.forecast.reference import reference_statistics
from argus.forecast.registry import DEFAULT_KIND

SCORE_HORIZONS = (12, 96)  # 1 h and 8 h
# The TFT's minimum encoder (1 h) plus a third of a day: less cannot hold out a validation split.
MIN_TRAIN_STEPS = 12 + DAY_STEPS // 3
SCORE_ORIGINS = 4  # origins in the validation period scored at save time (cost: 4 predictions)


@dataclass(frozen=True)
class TrainResult:
    name: str
    path: Path
    metadata: dict[str, Any]
    activated: bool


def default_name(now: datetime | None = None, kind: str = DEFAULT_KIND) -> str:
    return f"{kind}-" + (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")


def validation_scores(
    forecaster: Trainable, grid: pd.DataFrame, start: str | None
) -> dict[str, Any]:
    """A small backtest on the validation period: the model as served (`ServingForecaster`,
    learning online from the earlier origins as the daemon would) vs naive vs seasonal naive."""
    from argus.forecast.serving import ServingForecaster

    if start is None:
        return {}
    first = int(pd.Timestamp(start).value // (5 * 60 * 10**9))
    origins = rolling_origins(grid, first, 1, max(SCORE_HORIZONS))
    if not origins:
        return {}
    picks = np.unique(np.linspace(0, len(origins) - 1, SCORE_ORIGINS).round().astype(int))
    models: dict[str, Forecaster] = {
        forecaster.kind: ServingForecaster(forecaster),
        "naive": Naive(),
        "seasonal_naive": SeasonalNaive(),
    }
    report = backtest(grid, models, SCORE_HORIZONS, [origins[i] for i in picks])
    return report.to_json()


def train_model(
    frame: pd.DataFrame,
    *,
    models_dir: Path,
    name: str | None = None,
    kind: str = DEFAULT_KIND,
    config: dict[str, Any] | None = None,
    options: TrainOptions | None = None,
    incremental: bool = False,
    activate: bool = True,
) -> TrainResult:
    """Train a new model of `kind` from `config` (its kind's settings; None: the defaults), or
    continue the current one (`incremental`, its own kind), and save it as `name`."""
    options = options or TrainOptions()
    parent = None
    if incremental:
        forecaster = _current_trainable(models_dir)
        parent = forecaster.model_name
    else:
        forecaster = registry.get(kind).create(config)
    name = artifacts.validate_name(name or default_name(kind=forecaster.kind))
    grid = to_grid(frame)
    if grid["time_idx"].nunique() < MIN_TRAIN_STEPS:
        raise InvalidInputError("not enough history to train: need at least ~9 hours")
    report = forecaster.fit(frame, options=options)
    forecaster.model_name = name
    metadata = {
        "kind": forecaster.kind,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "catalogue_version": CATALOGUE_VERSION,
        "targets": list(TARGETS),
        "quantiles": list(forecaster.quantiles),
        "config": forecaster.config_dict(),
        "training": {**asdict(report), **_options_json(options), "incremental_from": parent},
        "data_range": {"start": str(grid["timestamp"].min()), "end": str(grid["timestamp"].max())},
        "servers": sorted(grid["server"].unique().tolist()),
        "reference": reference_statistics(grid),
        "backtest": validation_scores(forecaster, grid, report.validation_from),
        **registry.get(forecaster.kind).describe(forecaster),
    }
    path = artifacts.save_model(models_dir, name, forecaster, metadata)
    if activate:
        artifacts.set_current(models_dir, name)
    return TrainResult(name, path, artifacts.read_metadata(models_dir, name), activate)


def _current_trainable(models_dir: Path) -> Trainable:
    current = artifacts.load_current(models_dir)
    if current is None:
        raise InvalidInputError("--incremental needs a current model; train one first")
    return current


def _options_json(options: TrainOptions) -> dict[str, Any]:
    # not asdict(): it would deep-copy the progress callback (a live rich bar holds locks)
    return {f.name: getattr(options, f.name) for f in fields(options) if f.name != "progress"}
