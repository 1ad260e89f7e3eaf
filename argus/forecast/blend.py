"""The fleet-level blend learnt at training: the model's median with the last value and the
usual level. It is the prior of the serving layer's per-server combination
(`argus.forecast.combine`), which moves towards each server's own realised errors.

A small TFT trained for minutes on CPU loses to naive and seasonal naive on some targets (CPU %
of VMs whose load is a random walk at 1 h and a daily cycle at 8 h); the three forecasts err in
different ways, so a weighted mean of them is often better than any one of them. The weights
(convex, on a 0.1 grid) are chosen per target and horizon block on the model's forecasts of the
last week of its data (`argus.forecast.calibration`), minimising MASE as the benchmarks compute
it (see `learn_blend`), with the most network weight among those within 2 % of the best score.
The whole quantile band moves with its median, so the calibration's
spread factors still apply. Weights (1, 0, 0) are the network alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np

from argus.forecast.combine import NAIVE, USUAL, candidates

# The blend's components: the model, the last value, and the usual level (a week's median at
# that time: never yesterday alone, which would replay yesterday's one-off incident).
COMPONENTS: tuple[str, ...] = ("model", "naive", "usual")
GRID_STEP = 0.1
MIN_SAMPLES = 50  # fewer validation errors than this in a block: keep the network alone
# A blend must beat the network by more than this share of its score to be chosen over a
# blend with more network in it: on a flat score the weights are noise (docs/benchmarks.md).
TOLERANCE = 0.02


def weight_grid(step: float = GRID_STEP) -> np.ndarray:
    """(K, 3) every convex combination of the three components on a `step` grid."""
    n = round(1 / step)
    rows = [(a, b, n - a - b) for a, b in product(range(n + 1), repeat=2) if a + b <= n]
    return np.array(rows, dtype=np.float64) / n


def anchor_points(recent: np.ndarray, median: np.ndarray) -> np.ndarray:
    """(servers, targets, horizon, 2) the naive and usual-level points after `recent`'s end.

    `recent` is (servers, steps, targets) of each server's last buckets (NaN where none),
    `median` (servers, targets, horizon) the model's. The usual level is the median of the same
    time on each of the last 7 days (`argus.forecast.combine`); where fewer than 3 days were
    observed, the naive point.
    """
    cands = candidates(recent, median)
    out = cands[..., [NAIVE, USUAL]]
    missing = ~np.isfinite(out[..., 1])
    out[..., 1][missing] = out[..., 0][missing]
    return out


@dataclass(frozen=True)
class Blend:
    """Weights per target and horizon block; stored in the model's calibration record."""

    block_ends: tuple[int, ...]  # last step (exclusive end) of each horizon block
    weights: dict[str, list[list[float]]]  # target -> per block (tft, naive, seasonal_naive)

    @classmethod
    def from_record(cls, record: dict | None) -> Blend | None:
        if not record or "weights" not in record:
            return None
        return cls(tuple(record["block_ends"]), record["weights"])

    def to_record(self) -> dict:
        return {
            "components": list(COMPONENTS),
            "block_ends": list(self.block_ends),
            "weights": self.weights,
        }

    def step_weights(self, targets: tuple[str, ...], horizon: int) -> np.ndarray:
        """(targets, horizon, 3) the weights of every target and step (network alone if none)."""
        out = np.zeros((len(targets), horizon, len(COMPONENTS)))
        out[..., 0] = 1.0
        ends = [0, *self.block_ends]
        for t, target in enumerate(targets):
            for b, w in enumerate(self.weights.get(target, [])):
                out[t, ends[b] : min(ends[b + 1], horizon)] = w
        return out

    def medians(
        self, median: np.ndarray, anchors: np.ndarray, targets: tuple[str, ...]
    ) -> np.ndarray:
        """Blended medians (n, targets, horizon) from the network's and the anchor points."""
        w = self.step_weights(targets, median.shape[2])[None]
        # a target the server never reported has no anchors: the network's median stands
        naive = np.where(np.isfinite(anchors[..., 0]), anchors[..., 0], median)
        seasonal = np.where(np.isfinite(anchors[..., 1]), anchors[..., 1], median)
        return median * w[..., 0] + naive * w[..., 1] + seasonal * w[..., 2]


def learn_blend(
    median: np.ndarray,
    anchors: np.ndarray,
    actual: np.ndarray,
    scale: np.ndarray,
    servers: np.ndarray,
    targets: tuple[str, ...],
    block_ends: tuple[int, ...],
) -> Blend:
    """Choose each target's and block's weights by the MASE of the forecasts they give.

    median (n, T, H), anchors (n, T, H, 2), actual (n, T, H) with NaN where unobserved,
    scale (n, T): the series' mean absolute one-step difference before the origin, and
    servers (n,): which server each forecast is of. The score is MASE as the benchmarks
    compute it: the scaled absolute error averaged per server, then the median over servers,
    so a few servers in an incident do not choose the weights for the whole fleet. Of the
    weights within `TOLERANCE` of the best score, those with the most network weight win.
    """
    grid = weight_grid()
    codes = np.unique(servers, return_inverse=True)[1]  # servers as 0..S-1
    parts = np.concatenate([median[..., None], anchors], axis=-1)  # (n, T, H, 3)
    usable = np.isfinite(scale) & (scale > 1e-9)
    weights: dict[str, list[list[float]]] = {}
    for t, target in enumerate(targets):
        weights[target] = []
        for lo, hi in zip([0, *block_ends[:-1]], block_ends, strict=True):
            x = parts[:, t, lo:hi]  # (n, steps, 3)
            y = actual[:, t, lo:hi]
            ok = np.isfinite(y) & usable[:, t, None]
            if ok.sum() < MIN_SAMPLES:
                weights[target].append([1.0, 0.0, 0.0])
                continue
            x = np.where(np.isfinite(x), x, x[..., :1])
            pred = x[ok] @ grid.T  # (samples, K)
            per = np.broadcast_to(scale[:, t, None], y.shape)[ok]
            err = np.abs(pred - y[ok][:, None]) / per[:, None]
            owner = np.broadcast_to(codes[:, None], y.shape)[ok]
            best = grid[_most_network_near_best(_median_of_server_means(err, owner), grid)]
            weights[target].append([round(float(v), 2) for v in best])
    return Blend(tuple(block_ends), weights)


def _most_network_near_best(scores: np.ndarray, grid: np.ndarray) -> int:
    """The row of `grid` with the most network weight among those scoring within
    `TOLERANCE` of the best (the best score among those)."""
    near = scores <= scores.min() * (1 + TOLERANCE)
    top = grid[:, 0] == grid[near, 0].max()
    return int(np.argmin(np.where(near & top, scores, np.inf)))


def _median_of_server_means(err: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """(K,) for errors (samples, K) of servers `owner` (integer codes): each server's mean
    error, then the median over servers."""
    order = np.argsort(owner, kind="stable")
    sorted_owner = owner[order]
    bounds = np.flatnonzero(np.r_[True, sorted_owner[1:] != sorted_owner[:-1]])
    sums = np.add.reduceat(err[order], bounds, axis=0)
    counts = np.diff(np.r_[bounds, len(order)])[:, None]
    return np.median(sums / counts, axis=0)
