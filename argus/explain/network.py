"""The TFT's own interpretation of one server's latest window (torch; imported lazily).

It prepares the network's input exactly as `TFTForecaster.predict` does (`fast_predict`'s
numpy inputs when the forecaster uses that path, else the model's saved dataset parameters),
runs the network's own forward pass once and reads `interpret_output(reduction="none")`: the
encoder variable-selection weights and the attention over the encoder window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from argus.catalogue import TARGETS
from argus.explain.network_types import NetworkWeights
from argus.forecast import fast_predict
from argus.forecast.base import ForecastSet
from argus.forecast.frame import (
    STEP_NS,
    future_lags,
    grid_to_feed,
    steps_to_timestamps,
)
from argus.forecast.tft import prediction_dataset, prediction_frame

if TYPE_CHECKING:
    from argus.forecast.tft import TFTForecaster

# Forecast steps whose attention is averaged (5 min, 1 h, 4 h, 8 h ahead): the risk looks at
# the whole horizon, not only its first step.
ATTENTION_STEPS: tuple[int, ...] = (0, 11, 47, 95)


def _encoder_attention(network: Any, out: dict, row: int, length: int) -> np.ndarray:
    """Attention over the encoder, averaged over ATTENTION_STEPS, right-aligned, summing to 1."""
    horizon = int(out["decoder_lengths"].max())
    rows = []
    for step in (s for s in ATTENTION_STEPS if s < horizon):
        interp = network.interpret_output(out, reduction="none", attention_prediction_horizon=step)
        rows.append(interp["attention"][row, : network.hparams.max_encoder_length].numpy())
    att = np.nan_to_num(np.mean(rows, axis=0))[-length:]
    total = att.sum()
    return att / total if total > 0 else np.full(length, 1.0 / length)


@dataclass(frozen=True)
class _Batch:
    """The network's input batch and what turns its output into forecasts."""

    x: dict[str, Any]
    servers: tuple[str, ...]
    first: np.ndarray  # (n,) time_idx of each server's first forecast step
    lags: np.ndarray | None  # (n, targets, horizon) seasonal covariates (differenced networks)


def _forecasts(forecaster: TFTForecaster, out: dict, batch: _Batch) -> ForecastSet:
    """The network's quantile forecasts of a forward pass, as `TFTForecaster.predict` gives them."""
    cfg = forecaster.config
    network = forecaster.network
    assert network is not None  # noqa: S101 - checked by the caller
    quantiles = network.to_quantiles(out)
    values = torch.stack(list(quantiles), dim=1).numpy()
    first = batch.first
    return ForecastSet(
        servers=batch.servers,
        targets=TARGETS,
        quantiles=cfg.quantiles,
        timestamps=steps_to_timestamps(first[:, None] + np.arange(cfg.horizon)[None, :]),
        # the same levels, clipping and calibration as predict()
        values=forecaster.finish(values, batch.lags),
        models=(forecaster.name,) * len(batch.servers),
    )


def _fast_batch(forecaster: TFTForecaster, grid: pd.DataFrame) -> _Batch | None:
    """The network's input batch from `fast_predict`, or None where predict() would not use it.

    Building a `TimeSeriesDataSet` for a dozen variants costs several times the forward pass.
    """
    network, cfg = forecaster.network, forecaster.config
    if not forecaster.fast_path:
        return None
    buckets = fast_predict.bucket_frame(grid_to_feed(grid), cfg.history_steps)
    win = fast_predict.windows(buckets, np.arange(len(buckets.names)), cfg)
    if not fast_predict.served(network, win).all():  # as predict() would: the fallback
        return None
    x = fast_predict.network_inputs(network, win, cfg.horizon)
    lags = win.future_lags(cfg.horizon) if cfg.differenced else None
    return _Batch(x, win.servers, win.first_prediction.astype(np.int64), lags)


def _dataset_batch(forecaster: TFTForecaster, grid: pd.DataFrame) -> _Batch:
    """The same batch through pytorch-forecasting's `TimeSeriesDataSet` (the reference path)."""
    cfg = forecaster.config
    full = prediction_frame(cfg, grid)
    dataset = prediction_dataset(forecaster.network, full)
    loader = dataset.to_dataloader(train=False, batch_size=len(dataset), num_workers=0)
    x, _ = next(iter(loader))
    servers = tuple(str(s) for s in dataset.decoded_index["server"])
    first = dataset.decoded_index["time_idx_first_prediction"].to_numpy(dtype=np.int64)
    lags = future_lags(full, servers, cfg.horizon) if cfg.differenced else None
    return _Batch(x, servers, first, lags)


def run_network(
    forecaster: TFTForecaster, grid: pd.DataFrame, subject: str
) -> tuple[ForecastSet, NetworkWeights]:
    """One forward pass over every server of `grid`; the interpretation of `subject`.

    Explanations batch the real server with its modified copies (counterfactuals) so that the
    input preparation and the forward pass happen once. Each server needs at least
    `min_encoder_length` buckets (the caller routes shorter ones to the fallback).
    """
    network = forecaster.network
    if network is None:
        raise RuntimeError("the TFT has not been trained or loaded")
    batch = _fast_batch(forecaster, grid) or _dataset_batch(forecaster, grid)
    x = batch.x
    with torch.inference_mode():
        out = network(x)
        forecast = _forecasts(forecaster, out, batch)  # the network's own, before serving
        row = forecast.index(subject)
        weights = network.interpret_output(out, reduction="none")["encoder_variables"][row]
        length = int(x["encoder_lengths"][row])
        attention = _encoder_attention(network, out, row, length)
    return forecast, NetworkWeights(
        inputs=tuple(network.encoder_variables),
        weights=weights.numpy().astype(np.float64),
        attention=attention,
        last_time_idx=int(forecast.timestamps[row, 0].astype("int64") // STEP_NS) - 1,
    )
