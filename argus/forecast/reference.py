"""Reference statistics of a model's training inputs, saved with it for drift checks (DSS/FDS)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from argus.catalogue import TARGETS

REFERENCE_QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
HISTOGRAM_BINS = 20


def reference_statistics(grid: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per target: mean, std, quantiles and a histogram (bin edges and shares) of the grid."""
    out: dict[str, dict[str, Any]] = {}
    for target in TARGETS:
        values = grid[target].to_numpy(dtype=np.float64)
        values = values[np.isfinite(values)]
        if values.size == 0:
            continue
        lo, hi = float(values.min()), float(values.max())
        counts, edges = np.histogram(values, bins=HISTOGRAM_BINS, range=(lo, max(hi, lo + 1e-9)))
        out[target] = {
            "count": int(values.size),
            "mean": float(values.mean()),
            "std": float(values.std()),
            "quantiles": {
                str(q): float(v)
                for q, v in zip(
                    REFERENCE_QUANTILES, np.quantile(values, REFERENCE_QUANTILES), strict=True
                )
            },
            "histogram": {
                "edges": [float(e) for e in edges],
                "shares": [float(c) / values.size for c in counts],
            },
        }
    return out
