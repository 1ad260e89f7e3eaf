"""Forecasting: the TFT, its baselines, backtests and the models directory.

Importing this package loads numpy only. The heavy parts are modules of their own:
`argus.forecast.tft` (torch, pytorch-forecasting) and `argus.forecast.artifacts.load_model`
(imports it on demand). For the daemon:

    from argus.forecast.artifacts import load_current
    forecaster = load_current(home / "models")   # TFTForecaster | None
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
