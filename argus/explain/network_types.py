"""What the TFT interpretation returns, without importing torch (so callers stay light)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NetworkWeights:
    """What the network weighed for one server's forecast.

    `weights[i]` is the mean variable-selection weight of encoder input `inputs[i]` over the
    encoder steps (they sum to 1). `attention[j]` is the share of attention on the encoder step
    `len(attention) - 1 - j` steps before the last sample (`attention[-1]` is the last sample);
    it sums to 1.
    """

    inputs: tuple[str, ...]
    weights: np.ndarray
    attention: np.ndarray
    last_time_idx: int
