"""Forecasting: model kinds behind one boundary, the baselines, backtests, the models directory.

Importing this package loads numpy only. `base.py` holds what every model returns and the
protocols a model may implement; `registry.py` the kinds (`tft/`: the Temporal Fusion
Transformer, the only package that imports torch, pytorch-forecasting and Lightning; `ets.py`:
exponential smoothing with statsmodels), imported on first use. For the daemon:

    from argus.forecast.artifacts import load_current
    forecaster = load_current(home / "models")   # any registered kind, or None
    forecasts = forecaster.predict(frame)        # ForecastSet, all servers in one call
"""

from argus.forecast.base import (
    BASELINE_MODEL,
    HORIZON,
    QUANTILES,
    Forecaster,
    ForecastSet,
    TrainOptions,
    TrainProgress,
)

__all__ = [
    "BASELINE_MODEL",
    "HORIZON",
    "QUANTILES",
    "ForecastSet",
    "Forecaster",
    "TrainOptions",
    "TrainProgress",
]
