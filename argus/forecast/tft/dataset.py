"""The TFT's dataset path: pytorch-forecasting's `TimeSeriesDataSet` built from the 5-minute grid.

Training always goes through it; prediction uses it for networks the fast path (`fast.py`) does
not reproduce, and it is the reference the fast path is tested against.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pytorch_forecasting import TemporalFusionTransformer, TimeSeriesDataSet
from pytorch_forecasting.data import EncoderNormalizer, MultiNormalizer, NaNLabelEncoder
from sklearn.preprocessing import StandardScaler

from argus.catalogue import TARGETS
from argus.forecast.frame import (
    LAG_COVARIATES,
    TIME_COVARIATES,
    future_rows,
    network_frame,
    trim_history,
)

if TYPE_CHECKING:
    from argus.forecast.tft.model import TFTConfig, TFTForecaster


class ArrayScaler(StandardScaler):
    """A StandardScaler blind to column names.

    pytorch-forecasting fits scalers on DataFrame columns but transforms tensors per sample,
    which makes a plain StandardScaler warn on every sample. Pickled into checkpoints, so keep
    the name and module stable.
    """

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> ArrayScaler:  # noqa: N803
        return super().fit(np.asarray(X, dtype=np.float64), y, sample_weight)

    def transform(self, X: Any, copy: bool | None = None) -> np.ndarray:  # noqa: N803
        return super().transform(np.asarray(X, dtype=np.float64), copy=copy)


def build_dataset(cfg: TFTConfig, data: pd.DataFrame) -> TimeSeriesDataSet:
    """A fresh TimeSeriesDataSet (encoders and scalers fitted on `data`)."""
    known = list(TIME_COVARIATES) + (list(LAG_COVARIATES) if cfg.seasonal_covariates else [])
    scalers: dict[str, Any] = dict.fromkeys(TIME_COVARIATES)  # already in [-1, 1]
    if cfg.seasonal_covariates:
        # Per-window normalisation, like the targets, so "yesterday" is on the target's scale.
        scalers.update({c: EncoderNormalizer() for c in LAG_COVARIATES})
    scalers.update({f"{t}_{part}": ArrayScaler() for t in TARGETS for part in ("center", "scale")})
    # Already in [-1, 1] as pytorch-forecasting computes them per window.
    scalers.update({"relative_time_idx": None, "encoder_length": None})
    return TimeSeriesDataSet(
        data,
        time_idx="time_idx",
        target=list(TARGETS),
        group_ids=["server"],
        max_encoder_length=cfg.max_encoder_length,
        min_encoder_length=cfg.min_encoder_length,
        max_prediction_length=cfg.horizon,
        min_prediction_length=cfg.horizon,
        static_categoricals=["profile"],
        time_varying_known_reals=known,
        time_varying_unknown_reals=list(TARGETS),
        target_normalizer=MultiNormalizer([EncoderNormalizer() for _ in TARGETS]),
        categorical_encoders={
            # add_nan: servers and profiles never seen in training still forecast.
            "server": NaNLabelEncoder(add_nan=True),
            "profile": NaNLabelEncoder(add_nan=True),
        },
        scalers=scalers,
        add_relative_time_idx=True,
        add_target_scales=True,
        add_encoder_length=True,
        allow_missing_timesteps=True,
    )


def prediction_frame(cfg: TFTConfig, grid: pd.DataFrame) -> pd.DataFrame:
    """Each server's history plus its future rows as the network reads them: covariates added,
    targets differenced if so set, cut to the encoder and horizon."""
    hist = trim_history(grid, cfg.history_steps)
    full = pd.concat([hist, future_rows(hist, cfg.horizon)], ignore_index=True)
    full = network_frame(full, cfg.differenced, cfg.seasonal_days)
    full = full.sort_values(["server", "time_idx"], kind="stable")
    return trim_history(full, cfg.max_encoder_length + cfg.horizon)


def prediction_dataset(network: TemporalFusionTransformer, full: pd.DataFrame) -> TimeSeriesDataSet:
    """The dataset of one forecast per server of `full` (history plus future rows).

    The training split's first step (`min_prediction_idx`) means nothing to a forecast; kept,
    it would cut history older than the model's training data, or leave nothing to forecast
    when all of it is older (a replay of old data).
    """
    return TimeSeriesDataSet.from_parameters(
        network.dataset_parameters,
        full,
        predict=True,
        stop_randomization=True,
        min_prediction_idx=int(full["time_idx"].min()),
    )


def dataset_summary(forecaster: TFTForecaster) -> dict[str, Any]:
    """The JSON-representable dataset parameters (encoders/normalisers live in the checkpoint)."""
    network = forecaster.network
    if network is None:
        raise RuntimeError("only a trained TFT has dataset parameters")
    params = network.dataset_parameters
    plain = (str, int, float, bool, type(None))
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, plain):
            out[key] = value
        elif isinstance(value, list | tuple) and all(isinstance(v, plain) for v in value):
            out[key] = list(value)
        else:
            out[key] = repr(value)[:300]
    loss = network.loss
    out["loss_weights"] = [float(w) for w in getattr(loss, "weights", [])]
    return out
