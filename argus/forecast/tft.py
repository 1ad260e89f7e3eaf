"""The Temporal Fusion Transformer forecaster (pytorch-forecasting): one global model per fleet.

This is the only module that imports pytorch-forecasting and Lightning. Loading checkpoints is
`argus.forecast.artifacts`'s job; this module builds, trains and runs the network.
"""

from __future__ import annotations

import copy
import math
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import torch
from pytorch_forecasting import TemporalFusionTransformer, TimeSeriesDataSet
from pytorch_forecasting.data import EncoderNormalizer, MultiNormalizer, NaNLabelEncoder
from pytorch_forecasting.metrics import MultiLoss, QuantileLoss
from sklearn.preprocessing import StandardScaler
from torch import nn

from argus.catalogue import TARGETS
from argus.forecast import fast_predict
from argus.forecast.base import (
    HORIZON,
    QUANTILES,
    ForecastSet,
    ProgressFn,
    TrainOptions,
    TrainProgress,
    concat_forecasts,
    finish_values,
)
from argus.forecast.baseline import SeasonalNaive
from argus.forecast.calibration import learn_calibration
from argus.forecast.frame import (
    DAY_STEPS,
    LAG_COVARIATES,
    STEP_NS,
    TIME_COVARIATES,
    future_lags,
    future_rows,
    network_frame,
    server_series,
    steps_to_timestamps,
    to_grid,
    trim_history,
)
from argus.forecast.grid import Buckets

# The class artifacts.py calls load_from_checkpoint on (it must not import the library itself).
NETWORK_CLASS = TemporalFusionTransformer
# Servers per forward pass on the fast path: with the 12 h encoder 64 beat 32 in interleaved
# runs and 128 was no better (bench/forecast_batch_sizes.py, docs/benchmarks.md).
FAST_BATCH = 64
# The time cap bounds the whole fit: the network trains for this share of it, leaving the rest
# to the blend and calibration that follow (20 s after the network's 135 s on the 45-server
# simulated fleet; docs/benchmarks.md, simulator and speed).
NETWORK_SHARE = 0.9


@dataclass(frozen=True)
class TFTConfig:
    """Network and dataset hyperparameters; stored in metadata.json and in the checkpoint."""

    hidden_size: int = 16
    attention_head_size: int = 2
    hidden_continuous_size: int = 8
    lstm_layers: int = 1
    dropout: float = 0.1
    learning_rate: float = 3e-3
    gradient_clip: float = 0.1
    max_encoder_length: int = 144  # 12 h; the seasonal covariates carry the days before
    min_encoder_length: int = 12
    horizon: int = HORIZON
    quantiles: tuple[float, ...] = QUANTILES
    # each target's seasonal value as a known covariate: the median of the same time of day
    # on each of the last `seasonal_days` days (1: the value a day earlier)
    seasonal_covariates: bool = True
    seasonal_days: int = 7
    # the network forecasts each target's departure from that value (needs the covariates)
    seasonal_target: bool = True
    batch_size: int = 64
    batches_per_epoch: int = 40
    val_batches: int = 8
    predict_batch_size: int = 256
    # widen/narrow the quantile bands to their coverage on the validation split (see calibrate)
    calibrate: bool = True
    # ... after blending the median with naive and seasonal naive (argus.forecast.blend)
    blend: bool = True

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TFTConfig:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        if "quantiles" in kwargs:
            kwargs["quantiles"] = tuple(kwargs["quantiles"])
        kwargs.setdefault("seasonal_target", False)  # models saved before it forecast levels
        kwargs.setdefault("seasonal_days", 1)  # ... and before this read the day before
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["quantiles"] = list(self.quantiles)
        return data

    @property
    def history_steps(self) -> int:
        """Grid steps of history a prediction needs: the encoder plus the seasonal days."""
        return self.max_encoder_length + self.seasonal_days * DAY_STEPS

    @property
    def differenced(self) -> bool:
        """Whether the network's targets are departures from the seasonal covariate."""
        return self.seasonal_target and self.seasonal_covariates


def loss_weights(grid: pd.DataFrame) -> list[float]:
    """Per-target loss weight ~ 1 / typical within-server std, mean 1 over varying targets.

    The quantile loss is computed in each target's units, so without weights the target with
    the largest spread (CPU %) would drown the others (load, swap). Near-constant targets get
    the weight of a target with a tenth of the median spread instead of an exploding one.
    """
    spread = grid.groupby("server")[list(TARGETS)].std().median().fillna(0.0).to_numpy()
    varying = spread[spread > 1e-6]
    if varying.size == 0:
        return [1.0] * len(TARGETS)
    floor = 0.1 * float(np.median(varying))
    weights = 1.0 / np.maximum(spread, floor)
    weights /= weights[spread > 1e-6].mean()
    return [round(float(w), 6) for w in weights]


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


def build_network(
    cfg: TFTConfig, dataset: TimeSeriesDataSet, weights: list[float]
) -> TemporalFusionTransformer:
    """A new TFT sized for `dataset` with a weighted multi-target quantile loss."""
    loss = MultiLoss([QuantileLoss(list(cfg.quantiles)) for _ in TARGETS], weights=weights)
    return TemporalFusionTransformer.from_dataset(
        dataset,
        hidden_size=cfg.hidden_size,
        attention_head_size=cfg.attention_head_size,
        hidden_continuous_size=cfg.hidden_continuous_size,
        lstm_layers=cfg.lstm_layers,
        dropout=cfg.dropout,
        learning_rate=cfg.learning_rate,
        output_size=[len(cfg.quantiles)] * len(TARGETS),
        loss=loss,
        logging_metrics=nn.ModuleList([]),  # extra metrics cost time per step and log nowhere
        log_interval=-1,
        reduce_on_plateau_patience=3,
    )


class _Progress(pl.Callback):
    """Reports batches and epochs to a plain callable (the CLI draws a rich bar from it)."""

    def __init__(self, report: ProgressFn | None, batches: int) -> None:
        self.report = report
        self.batches = batches
        self.started = time.monotonic()
        self.train_loss: float | None = None
        self.val_loss: float | None = None

    def _emit(self, trainer: pl.Trainer, batch: int) -> None:
        if self.report is not None:
            self.report(
                TrainProgress(
                    epoch=trainer.current_epoch + 1,
                    max_epochs=int(trainer.max_epochs or 0),
                    batch=batch,
                    batches_per_epoch=self.batches,
                    train_loss=self.train_loss,
                    val_loss=self.val_loss,
                    elapsed_s=time.monotonic() - self.started,
                )
            )

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is not None:
            self.train_loss = float(loss)
        self._emit(trainer, batch_idx + 1)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.sanity_checking and "val_loss" in trainer.callback_metrics:
            self.val_loss = float(trainer.callback_metrics["val_loss"])
            self._emit(trainer, self.batches)


class _BestWeights(pl.Callback):
    """Keeps the weights of the best validation epoch and restores them when training ends."""

    def __init__(self) -> None:
        self.best: float = math.inf
        self.state: dict[str, torch.Tensor] | None = None
        self.epochs = 0

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or "val_loss" not in trainer.callback_metrics:
            return
        loss = float(trainer.callback_metrics["val_loss"])
        if loss < self.best:
            self.best = loss
            self.state = copy.deepcopy(pl_module.state_dict())

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.epochs += 1

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.state is not None:
            pl_module.load_state_dict(self.state)


@dataclass(frozen=True)
class FitReport:
    """What a training run did; recorded in metadata.json."""

    epochs_run: int
    best_val_loss: float | None
    seconds: float
    train_windows: int
    val_windows: int
    train_start: str
    train_end: str
    validation_from: str | None
    # per-target quantile spread factors learnt on the validation split (metadata.json keeps it)
    calibration: dict[str, Any] | None = None


def _split(
    cfg: TFTConfig, grid: pd.DataFrame, val_fraction: float
) -> tuple[pd.DataFrame, int | None]:
    """Training rows and the first validation step: validation is the latest part of time."""
    first, last = int(grid["time_idx"].min()), int(grid["time_idx"].max())
    val_steps = max(cfg.horizon, int((last - first) * val_fraction))
    cutoff = last - val_steps
    if val_fraction <= 0 or cutoff - first < cfg.min_encoder_length + cfg.horizon:
        return grid, None  # too short to hold out anything: train on all, no early stopping
    return grid[grid["time_idx"] <= cutoff], cutoff + 1


def _validation_set(
    cfg: TFTConfig, train_ds: TimeSeriesDataSet, grid: pd.DataFrame, start: int
) -> TimeSeriesDataSet | None:
    """Windows whose forecasts start after the cutoff, thinned to ~val_batches batches."""
    try:
        val = TimeSeriesDataSet.from_dataset(
            train_ds, grid, min_prediction_idx=start, stop_randomization=True
        )
    except (ValueError, AssertionError):
        return None
    wanted = cfg.val_batches * cfg.batch_size
    stride = max(1, math.ceil(len(val) / max(wanted, 1)))
    if stride > 1:
        # A deterministic thinning: the same windows every epoch, spread over servers and time.
        val = val.filter(lambda idx: np.arange(len(idx)) % stride == 0)
    return val


def _trainer(
    cfg: TFTConfig, options: TrainOptions, root: Path, callbacks: list[pl.Callback], val: bool
) -> pl.Trainer:
    if val:
        callbacks = [*callbacks, pl.callbacks.EarlyStopping("val_loss", patience=options.patience)]
    cap = options.max_minutes
    return pl.Trainer(
        max_epochs=options.epochs,
        max_time=timedelta(minutes=cap * NETWORK_SHARE) if cap else None,
        accelerator="cpu",
        devices=1,
        logger=False,  # no ./lightning_logs anywhere
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(root),
        gradient_clip_val=cfg.gradient_clip,
        limit_train_batches=cfg.batches_per_epoch,
        limit_val_batches=cfg.val_batches if val else 0,
        num_sanity_val_steps=0,
        callbacks=callbacks,
    )


def _stamp(step: int) -> str:
    return str(pd.Timestamp(step * STEP_NS))


class TFTForecaster:
    """The global TFT: `fit` trains (or continues training), `predict` forecasts the future.

    Servers with fewer than `min_encoder_length` observed buckets get the seasonal-naive
    fallback inside `predict`, and their `models` entry says "baseline".
    """

    def __init__(
        self,
        config: TFTConfig | None = None,
        *,
        model_name: str = "unsaved",
        network: TemporalFusionTransformer | None = None,
    ) -> None:
        self.config = config or TFTConfig()
        self.model_name = model_name
        self.network = network
        self.fallback = SeasonalNaive(horizon=self.config.horizon, quantiles=self.config.quantiles)
        self._trainer: pl.Trainer | None = None
        # metadata.json of a loaded model (reference statistics for drift, scores, ...)
        self.metadata: dict[str, Any] = {}
        # False forces the TimeSeriesDataSet path (tests compare the two).
        self.use_fast_path = True
        self._fast: fast_predict.FastTFT | None = None
        self._calibration: dict[str, Any] | None = None  # None: the one in metadata, if any
        if network is not None:
            network.eval()

    @property
    def name(self) -> str:
        return f"tft:{self.model_name}"

    def fit(self, frame: pd.DataFrame, *, options: TrainOptions | None = None) -> FitReport:
        """Train on a feed-schema frame; with a network already present, continue its training
        (same dataset parameters, its weights as the start) for `options.epochs` more epochs."""
        options = options or TrainOptions()
        cfg = self.config
        pl.seed_everything(options.seed, workers=True, verbose=False)
        started = time.monotonic()
        grid = to_grid(frame)
        data = network_frame(grid, cfg.differenced, cfg.seasonal_days)
        train_df, val_start = _split(cfg, data, options.val_fraction)
        if self.network is None:
            train_ds = build_dataset(cfg, train_df)
            self.network = build_network(cfg, train_ds, loss_weights(train_df))
        else:
            train_ds = TimeSeriesDataSet.from_parameters(self.network.dataset_parameters, train_df)
        val_ds = None if val_start is None else _validation_set(cfg, train_ds, data, val_start)
        best, progress = _BestWeights(), _Progress(options.progress, cfg.batches_per_epoch)
        with tempfile.TemporaryDirectory(prefix="argus-train-") as root:
            trainer = _trainer(cfg, options, Path(root), [best, progress], val_ds is not None)
            self.network.train()
            with warnings.catch_warnings():
                # lightning 2.6 + torch 2.13 emit this on every fit; it is not actionable here.
                warnings.filterwarnings("ignore", ".*LeafSpec.*", FutureWarning)
                self._run_fit(trainer, train_ds, val_ds)
        self.network.eval()
        self._trainer = trainer
        self._fast = None  # its folded weights are the old ones
        calibration = None
        if cfg.calibrate and val_start is not None:
            calibration = self._calibrate_grid(grid, val_start)
        return FitReport(
            epochs_run=best.epochs,
            best_val_loss=None if best.state is None else best.best,
            seconds=round(time.monotonic() - started, 2),
            train_windows=len(train_ds),
            val_windows=0 if val_ds is None else len(val_ds),
            train_start=_stamp(int(grid["time_idx"].min())),
            train_end=_stamp(int(train_df["time_idx"].max())),
            validation_from=None if val_start is None else _stamp(val_start),
            calibration=calibration,
        )

    def _run_fit(
        self,
        trainer: pl.Trainer,
        train_ds: TimeSeriesDataSet,
        val_ds: TimeSeriesDataSet | None,
    ) -> None:
        batch = self.config.batch_size
        trainer.fit(
            self.network,
            train_dataloaders=train_ds.to_dataloader(train=True, batch_size=batch, num_workers=0),
            val_dataloaders=None
            if val_ds is None
            else val_ds.to_dataloader(train=False, batch_size=batch, num_workers=0),
        )

    def write_checkpoint(self, path: Path) -> None:
        """Write the trained network (weights, hyperparameters, dataset parameters)."""
        if self._trainer is None:
            raise RuntimeError("only a model trained in this process can be written")
        self._trainer.save_checkpoint(str(path), weights_only=True)

    def predict(self, frame: pd.DataFrame) -> ForecastSet:
        """The network's own quantiles for the `horizon` steps after each server's last sample,
        all servers at once (servers it cannot serve get the fallback, named "baseline").

        Blending, calibration and the trend rule are the serving layer's
        (`argus.forecast.serving`), the same for every model kind.
        """
        if self.network is None:
            raise RuntimeError("the TFT has not been trained or loaded")
        if self.fast_path:
            return self._predict_fast(frame)
        return self._predict_dataset(frame)

    @property
    def fast_path(self) -> bool:
        """Whether `predict` builds the network's inputs itself (`fast_predict`).

        The dataset path (`TimeSeriesDataSet`) gives the same forecasts ~10x slower; it stays
        for networks whose dataset configuration the fast path does not reproduce.
        """
        if self.network is None or not self.use_fast_path:
            return False
        if self._fast is None or self._fast.network is not self.network:
            ok = fast_predict.supports(self.network, self.config.horizon)
            self._fast = fast_predict.FastTFT(self.network) if ok else None
        return self._fast is not None

    def _predict_dataset(self, frame: pd.DataFrame) -> ForecastSet:
        """The reference path: pandas gridding and pytorch-forecasting's own dataset."""
        grid = to_grid(_recent(frame, self.config.history_steps))
        counts = grid.groupby("server")["time_idx"].size()
        ready = counts.index[counts >= self.config.min_encoder_length]
        order = tuple(str(s) for s in counts.index)
        parts = [self._predict_network(grid[grid["server"].isin(ready)])] if len(ready) else []
        served = set(parts[0].servers) if parts else set()
        rest = grid[~grid["server"].isin(served)]
        if not rest.empty:
            parts.append(self.fallback.predict_series(server_series(rest)))
        return concat_forecasts(parts, order)

    def _predict_fast(self, frame: pd.DataFrame) -> ForecastSet:
        """`fast_predict` for every server it can serve; the fallback for the rest."""
        buckets = fast_predict.bucket_frame(frame, self.config.history_steps)
        part = self._served_part(buckets)
        parts = [] if part is None else [part]
        done = set() if part is None else set(part.servers)
        rest = [buckets.series(i) for i, n in enumerate(buckets.names) if n not in done]
        if rest:
            parts.append(self.fallback.predict_series(rest))
        return concat_forecasts(parts, buckets.names)

    @property
    def history_steps(self) -> int:
        """Buckets of history a forecast reads (the serving layer grids at least this many)."""
        return self.config.history_steps

    def predict_buckets(self, buckets: Buckets) -> ForecastSet | None:
        """The network's forecasts of the servers it serves among `buckets` (gridded with
        `history_steps`), without the fallback; None where the fast path does not apply
        (the serving layer then calls `predict`)."""
        if not self.fast_path:
            return None
        return self._served_part(buckets)

    def _served_part(self, buckets: Buckets) -> ForecastSet | None:
        cfg, fast = self.config, self._fast
        assert self.network is not None and fast is not None  # noqa: S101 - checked by caller
        ready = np.flatnonzero(buckets.counts() >= cfg.min_encoder_length)
        win = fast_predict.windows(buckets, ready, cfg)
        keep = np.flatnonzero(fast_predict.served(self.network, win))
        if not len(keep):
            return None
        return self._forecast_windows(fast, fast_predict.subset(win, keep))

    def _forecast_windows(
        self, fast: fast_predict.FastTFT, win: fast_predict.Windows
    ) -> ForecastSet:
        cfg = self.config
        batch = max(1, min(cfg.predict_batch_size, FAST_BATCH))
        chunks: list[np.ndarray] = []
        with torch.inference_mode():
            for lo in range(0, len(win.servers), batch):
                part = fast_predict.subset(win, np.arange(lo, min(lo + batch, len(win.servers))))
                x = fast_predict.network_inputs(self.network, part, cfg.horizon)
                chunks.append(torch.stack(fast.prediction(x), dim=1).numpy())
        stamps = steps_to_timestamps(win.first_prediction[:, None] + np.arange(cfg.horizon))
        lags = win.future_lags(cfg.horizon) if cfg.differenced else None
        return ForecastSet(
            servers=win.servers,
            targets=TARGETS,
            quantiles=cfg.quantiles,
            timestamps=stamps,
            values=self.finish(np.concatenate(chunks), lags),
            models=(self.name,) * len(win.servers),
        )

    def _predict_network(self, grid: pd.DataFrame) -> ForecastSet:
        cfg = self.config
        assert self.network is not None  # noqa: S101 - checked by predict
        full = prediction_frame(cfg, grid)
        dataset = prediction_dataset(self.network, full)
        loader = dataset.to_dataloader(
            train=False, batch_size=cfg.predict_batch_size, num_workers=0
        )
        chunks: list[np.ndarray] = []
        with torch.inference_mode():
            for x, _ in loader:
                quantiles = self.network.to_quantiles(self.network(x))
                chunks.append(torch.stack(list(quantiles), dim=1).numpy())
        values = np.concatenate(chunks) if chunks else np.empty((0, len(TARGETS), cfg.horizon, 0))
        servers = tuple(str(s) for s in dataset.decoded_index["server"])
        first = dataset.decoded_index["time_idx_first_prediction"].to_numpy(dtype=np.int64)
        stamps = steps_to_timestamps(first[:, None] + np.arange(cfg.horizon)[None, :])
        lags = future_lags(full, servers, cfg.horizon) if cfg.differenced else None
        return ForecastSet(
            servers=servers,
            targets=TARGETS,
            quantiles=cfg.quantiles,
            timestamps=stamps,
            values=self.finish(values, lags),
            models=(self.name,) * len(servers),
        )

    # -- quantile calibration -------------------------------------------------------------

    @property
    def calibration(self) -> dict[str, Any] | None:
        """The blend prior and spread factors the serving layer applies (from `fit`,
        `calibrate` or metadata)."""
        if self._calibration is not None:
            return self._calibration or None
        found = (self.metadata.get("training") or {}).get("calibration")
        return found if isinstance(found, dict) else None

    def calibrate(self, frame: pd.DataFrame, start: str | pd.Timestamp) -> dict[str, Any] | None:
        """Learn the blend (from forecasts of the last week of `frame`'s data, or from `start`
        on if that is longer) and the quantile spread factors (from forecasts from `start` on;
        `argus.forecast.calibration`).

        `start` must be held-out data (the validation split `fit` reports), and `frame` must end
        before the period a model is evaluated on. Replaces the current calibration; returns it
        (None: too few forecasts to learn from, and predictions are left uncalibrated).
        """
        step = int(pd.Timestamp(start).value // STEP_NS)
        return self._calibrate_grid(to_grid(frame), step)

    def _calibrate_grid(self, grid: pd.DataFrame, start: int) -> dict[str, Any] | None:
        self._calibration = {}  # forecast uncalibrated while learning
        result = learn_calibration(self, grid, start, blend=self.config.blend)
        self._calibration = result or {}
        return result

    def finish(self, values: np.ndarray, lags: np.ndarray | None) -> np.ndarray:
        """The network's raw quantiles (servers, targets, steps, quantiles) as `predict` returns
        them: levels (a differenced network's output plus `lags`, the seasonal covariate of each
        step, (servers, targets, steps)), clipped to each target's range and sorted.

        Code that runs the network itself (explanations) should finish its values with this.
        """
        if self.config.differenced:
            if lags is None:
                raise ValueError("a seasonal-difference network's output needs its lags")
            values = values + lags[..., None]
        return finish_values(values, TARGETS)


def _recent(frame: pd.DataFrame, steps: int) -> pd.DataFrame:
    """Drop samples older than `steps` grid steps before each server's last one (speed)."""
    stamps = pd.to_datetime(frame["timestamp"], utc=True, format="mixed").dt.tz_localize(None)
    last = stamps.groupby(frame["server_name"]).transform("max")
    return frame[stamps > last - pd.Timedelta(minutes=5 * (steps + 1))]


def library_versions() -> dict[str, str]:
    """Versions recorded with a model and checked when loading it."""
    import lightning
    import pytorch_forecasting

    return {
        "torch": torch.__version__,
        "pytorch_forecasting": pytorch_forecasting.__version__,
        "lightning": lightning.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }
