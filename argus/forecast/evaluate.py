"""Forecast accuracy metrics, pure numpy so every number can be checked by hand.

Conventions (also in docs/benchmarks.md):
- MAE: mean absolute error of the median (P50) forecast.
- MASE: |error| divided by the series' scale, the mean absolute one-step difference of its
  history before the origin (consecutive observed buckets only); averaged per series over the
  origins, then the median over series. Series whose scale is 0 (a constant history) are left
  out of MASE, since any error would be infinitely scaled.
- Pinball: the quantile loss averaged over the quantiles and the samples.
- Coverage: the share of actuals inside [P10, P90]; a calibrated forecast scores 0.8.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


def mase_scale(history: np.ndarray) -> float:
    """Mean absolute one-step difference of a 1-D history (NaN gaps break pairs); NaN if none."""
    diffs = np.abs(np.diff(np.asarray(history, dtype=np.float64)))
    diffs = diffs[np.isfinite(diffs)]
    return float(diffs.mean()) if diffs.size else float("nan")


def pinball_loss(
    actual: np.ndarray, predicted: np.ndarray, quantiles: Sequence[float]
) -> np.ndarray:
    """Quantile loss of each sample averaged over quantiles; `predicted` is (..., quantiles)."""
    q = np.asarray(quantiles, dtype=np.float64)
    diff = np.asarray(actual, dtype=np.float64)[..., None] - np.asarray(predicted, dtype=np.float64)
    return np.maximum(q * diff, (q - 1.0) * diff).mean(axis=-1)


def median_of_group_means(values: np.ndarray, groups: np.ndarray) -> float:
    """Mean of `values` per group, then the median over groups (NaN values are skipped)."""
    values = np.asarray(values, dtype=np.float64)
    groups = np.asarray(groups)
    keep = np.isfinite(values)
    if not keep.any():
        return float("nan")
    labels, inverse = np.unique(groups[keep], return_inverse=True)
    sums = np.bincount(inverse, weights=values[keep], minlength=len(labels))
    counts = np.bincount(inverse, minlength=len(labels))
    return float(np.median(sums / counts))


@dataclass(frozen=True)
class Scores:
    """Accuracy of one model on one target at one horizon."""

    mae: float
    mase: float
    pinball: float
    coverage: float  # share of actuals within [P10, P90]
    n: int  # forecasts scored

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def score(
    actual: np.ndarray,
    predicted: np.ndarray,
    quantiles: Sequence[float],
    scale: np.ndarray,
    groups: np.ndarray,
) -> Scores:
    """Score forecasts: `actual` (n,), `predicted` (n, quantiles), per-sample MASE `scale` and
    series id `groups`. Samples whose actual is NaN are skipped."""
    actual = np.asarray(actual, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    ok = np.isfinite(actual) & np.isfinite(predicted).all(axis=-1)
    if not ok.any():
        nan = float("nan")
        return Scores(nan, nan, nan, nan, 0)
    qs = list(quantiles)
    y, pred = actual[ok], predicted[ok]
    point = pred[:, _nearest(qs, 0.5)]
    abs_err = np.abs(y - point)
    sc = np.asarray(scale, dtype=np.float64)[ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.where(sc > 0, abs_err / sc, np.nan)
    lo, hi = pred[:, _nearest(qs, 0.1)], pred[:, _nearest(qs, 0.9)]
    return Scores(
        mae=float(abs_err.mean()),
        mase=median_of_group_means(scaled, np.asarray(groups)[ok]),
        pinball=float(pinball_loss(y, pred, qs).mean()),
        coverage=float(((y >= lo) & (y <= hi)).mean()),
        n=int(ok.sum()),
    )


def _nearest(quantiles: list[float], q: float) -> int:
    return int(np.argmin(np.abs(np.asarray(quantiles) - q)))
