"""What every forecaster returns and promises: `ForecastSet`, the `Forecaster` protocol and the
optional protocols a model kind may implement (`Interpretable` for /explain, `HasReference` for
drift, `Configurable` for training a like-for-like candidate, `PredictsBuckets` for serving from
the grid the serving layer built, `Calibrated` and `HasMetadata` for what training recorded).

Numpy only, so the risk engine, explanations and the daemon read forecasts and interpretations
without importing torch. Callers test the optional protocols with `isinstance`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from argus.catalogue import TARGETS

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from argus.forecast.grid import Buckets

# The time cap bounds a whole training: the model's own fit gets this share of it, the rest
# goes to the calibration and scoring that follow (the TFT: 20 s after the network's 135 s on
# the 45-server simulated fleet).
NETWORK_SHARE = 0.9
HORIZON = 96  # 96 x 5 min = 8 h (DESIGN.md §3)
# 0.1/0.5/0.9 are the contract; the outer pair gives the risk engine its tails.
QUANTILES: tuple[float, ...] = (0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98)
BASELINE_MODEL = "baseline"

# Physical range of each target: forecasts outside it are clipped (load has no upper bound).
_PCT_TARGETS = frozenset({"cpu_pct", "mem_pct", "swap_pct", "iowait_pct", "disk_pct"})


@dataclass(frozen=True)
class ForecastSet:
    """Quantile forecasts of every target for a batch of servers.

    `timestamps[s]` are the `steps` future 5-minute buckets after server `s`'s last sample;
    `values[s, t, k, q]` is quantile `quantiles[q]` of target `targets[t]` at step `k`.
    `models[s]` names what made server `s`'s forecast ("tft:<name>" or "baseline").
    """

    servers: tuple[str, ...]
    targets: tuple[str, ...]
    quantiles: tuple[float, ...]
    timestamps: np.ndarray  # (servers, steps) datetime64[ns]
    values: np.ndarray  # (servers, targets, steps, quantiles) float
    models: tuple[str, ...]
    _rows: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n, t, q = len(self.servers), len(self.targets), len(self.quantiles)
        if self.values.ndim != 4 or self.values.shape[:2] != (n, t) or self.values.shape[3] != q:
            raise ValueError(f"values shape {self.values.shape} does not match ({n}, {t}, *, {q})")
        if self.timestamps.shape != (n, self.values.shape[2]):
            raise ValueError(f"timestamps shape {self.timestamps.shape} != {(n, self.steps)}")
        if len(self.models) != n:
            raise ValueError("one model name per server is required")
        object.__setattr__(self, "_rows", {s: i for i, s in enumerate(self.servers)})

    @property
    def steps(self) -> int:
        return int(self.values.shape[2])

    def index(self, server: str) -> int:
        """Row of `server`; KeyError when it was not forecast."""
        return self._rows[server]

    def quantile_index(self, q: float) -> int:
        """Position of quantile `q` (e.g. 0.5); ValueError when absent."""
        for i, have in enumerate(self.quantiles):
            if abs(have - q) < 1e-9:
                return i
        raise ValueError(f"quantile {q} not in {self.quantiles}")

    def series(self, server: str, target: str) -> tuple[np.ndarray, np.ndarray]:
        """(timestamps[steps], values[steps, quantiles]) of one server and target."""
        row = self.index(server)
        return self.timestamps[row], self.values[row, self.targets.index(target)]

    def median(self, server: str, target: str) -> np.ndarray:
        """The P50 path of one server and target."""
        return self.series(server, target)[1][:, self.quantile_index(0.5)]

    def model_of(self, server: str) -> str:
        return self.models[self.index(server)]

    def subset(self, servers: tuple[str, ...]) -> ForecastSet:
        """The same forecasts restricted to (and ordered like) `servers`."""
        rows = [self.index(s) for s in servers]
        return ForecastSet(
            servers=tuple(servers),
            targets=self.targets,
            quantiles=self.quantiles,
            timestamps=self.timestamps[rows],
            values=self.values[rows],
            models=tuple(self.models[r] for r in rows),
        )


def clip_values(values: np.ndarray, targets: tuple[str, ...]) -> np.ndarray:
    """Clip forecasts (servers, targets, ...) to each target's physical range, in place."""
    for t, name in enumerate(targets):
        np.clip(values[:, t], 0.0, 100.0 if name in _PCT_TARGETS else None, out=values[:, t])
    return values


def finish_values(values: np.ndarray, targets: tuple[str, ...]) -> np.ndarray:
    """Clip forecasts to each target's physical range and make quantiles monotone per step."""
    out = clip_values(np.array(values, dtype=np.float64, copy=True), targets)
    if (out[..., 1:] >= out[..., :-1]).all():
        return out  # already in order: the usual case, and a sort costs ~0.1 s per 1,000 servers
    return np.sort(out, axis=-1)


def concat_forecasts(parts: list[ForecastSet], order: tuple[str, ...]) -> ForecastSet:
    """Merge forecast sets (same targets, quantiles and steps) into one ordered like `order`."""
    parts = [p for p in parts if p.servers]
    if len(parts) == 1:
        return parts[0].subset(order)
    first = parts[0]
    merged = ForecastSet(
        servers=tuple(s for p in parts for s in p.servers),
        targets=first.targets,
        quantiles=first.quantiles,
        timestamps=np.concatenate([p.timestamps for p in parts]),
        values=np.concatenate([p.values for p in parts]),
        models=tuple(m for p in parts for m in p.models),
    )
    return merged.subset(order)


@dataclass(frozen=True)
class TrainProgress:
    """One progress report from a training run (emitted after each batch and epoch)."""

    epoch: int  # 1-based, the epoch in progress
    max_epochs: int
    batch: int  # batches done in this epoch
    batches_per_epoch: int
    train_loss: float | None
    val_loss: float | None
    elapsed_s: float


ProgressFn = Callable[[TrainProgress], None]


@dataclass(frozen=True)
class TrainOptions:
    """How long and how to train; everything here is recorded in the model's metadata."""

    epochs: int = 20
    max_minutes: float | None = 10.0
    seed: int = 42
    patience: int = 4  # epochs without validation improvement before stopping
    val_fraction: float = 0.15  # the last part of the time range, used for early stopping
    progress: ProgressFn | None = None


@dataclass(frozen=True)
class FitReport:
    """What a training run did (any kind); recorded in metadata.json's "training"."""

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


@runtime_checkable
class Forecaster(Protocol):
    """Something that forecasts all servers of a feed-schema frame in one batched call."""

    @property
    def name(self) -> str:
        """What made a forecast ("tft:<name>", "baseline", ...)."""
        ...

    def fit(self, frame: pd.DataFrame, *, options: TrainOptions | None = None) -> FitReport | None:
        """Learn from a feed-schema frame (a no-op for stateless baselines)."""
        ...

    def predict(self, frame: pd.DataFrame) -> ForecastSet:
        """Forecast the HORIZON steps after each server's last sample."""
        ...


@dataclass(frozen=True)
class NetworkWeights:
    """What a model weighed for one server's forecast (its interpretation for /explain).

    `weights[i]` is the mean variable-selection weight of encoder input `inputs[i]` over the
    encoder steps (they sum to 1). `attention[j]` is the share of attention on the encoder step
    `len(attention) - 1 - j` steps before the last sample (`attention[-1]` is the last sample);
    it sums to 1.
    """

    inputs: tuple[str, ...]
    weights: np.ndarray
    attention: np.ndarray
    last_time_idx: int


@runtime_checkable
class Interpretable(Protocol):
    """A model that can say what it weighed (variable importance, attention over its input)."""

    def interprets(self, grid: pd.DataFrame) -> bool:
        """Whether `predict` gives this server's grid (one server) to the interpreted model,
        not to a fallback."""
        ...

    def interpret(self, grid: pd.DataFrame, subject: str) -> NetworkWeights:
        """What the model weighed for `subject`'s forecast from `grid` (a server `interprets`
        accepts)."""
        ...


@runtime_checkable
class HasReference(Protocol):
    """A trained model that keeps the statistics of its training inputs (drift compares them)."""

    def reference_statistics(self) -> dict[str, Any]:
        """Per-input reference statistics (`argus.forecast.reference`); empty when unknown."""
        ...


@runtime_checkable
class PredictsBuckets(Protocol):
    """A model that forecasts from the serving layer's grid (no second gridding of the window)."""

    @property
    def history_steps(self) -> int:
        """Buckets of history a forecast reads (the serving layer grids at least this many)."""
        ...

    def predict_buckets(self, buckets: Buckets) -> ForecastSet | None:
        """The model's own forecasts of the servers it serves among `buckets` (gridded with at
        least `history_steps`), without a fallback; None where it serves none this way (the
        serving layer then calls `predict`)."""
        ...


@runtime_checkable
class Calibrated(Protocol):
    """A model with a training-time calibration record (blend prior, band spread factors)."""

    @property
    def calibration(self) -> dict[str, Any] | None:
        """The record (`argus.forecast.calibration`); None when it has none."""
        ...


@runtime_checkable
class HasMetadata(Protocol):
    """A model loaded from the models directory, with its metadata.json."""

    metadata: dict[str, Any]


@runtime_checkable
class Trainable(Protocol):
    """A model kind `argus train` trains and the models directory keeps (see the registry)."""

    kind: str
    model_name: str
    metadata: dict[str, Any]

    @property
    def name(self) -> str: ...

    @property
    def quantiles(self) -> tuple[float, ...]: ...

    def fit(self, frame: pd.DataFrame, *, options: TrainOptions | None = None) -> FitReport: ...

    def predict(self, frame: pd.DataFrame) -> ForecastSet: ...

    def config_dict(self) -> dict[str, Any]: ...

    def write_checkpoint(self, path: Path) -> None:
        """Write what `load` in the kind's module reads back (hashed by the models directory)."""
        ...


@runtime_checkable
class Configurable(Protocol):
    """A model kind whose hyperparameters round-trip through a JSON-able dict."""

    kind: str

    def config_dict(self) -> dict[str, Any]:
        """The configuration a new model of the same kind and size is built from."""
        ...


__all__ = [
    "BASELINE_MODEL",
    "HORIZON",
    "QUANTILES",
    "TARGETS",
    "Calibrated",
    "Configurable",
    "FitReport",
    "ForecastSet",
    "Forecaster",
    "HasMetadata",
    "HasReference",
    "Interpretable",
    "NetworkWeights",
    "PredictsBuckets",
    "Trainable",
    "ProgressFn",
    "TrainOptions",
    "TrainProgress",
    "concat_forecasts",
    "finish_values",
]
