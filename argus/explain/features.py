"""User-facing feature names of the model's inputs, normalised importances and star strings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from argus.catalogue import TARGETS
from argus.forecast.frame import LAG_SUFFIX

STAR_COUNT = 5
TIME_OF_DAY = "time_of_day"
DAY_OF_WEEK = "day_of_week"
WINDOW_POSITION = "window_position"
SEASONAL_SUFFIX = "_seasonal"

# The targets' user-facing descriptions; a seasonal covariate adds "(same time, previous days)".
TARGET_LABELS: dict[str, str] = {
    "cpu_pct": "CPU busy %",
    "mem_pct": "Memory used %",
    "swap_pct": "Swap used %",
    "iowait_pct": "CPU I/O wait %",
    "load": "Load average",
    "disk_pct": "Disk used %",
}
OTHER_LABELS: dict[str, str] = {
    TIME_OF_DAY: "Time of day",
    DAY_OF_WEEK: "Day of week",
    WINDOW_POSITION: "Position in the input window (the TFT's relative time index)",
}
# Network input -> user-facing feature (sin/cos pairs are one feature).
_NETWORK_INPUTS: dict[str, str] = {
    "tod_sin": TIME_OF_DAY,
    "tod_cos": TIME_OF_DAY,
    "dow_sin": DAY_OF_WEEK,
    "dow_cos": DAY_OF_WEEK,
    "relative_time_idx": WINDOW_POSITION,
}


def feature_of(network_input: str) -> str:
    """The user-facing feature a network input belongs to (e.g. mem_pct_lag1d -> ..._seasonal)."""
    if network_input in _NETWORK_INPUTS:
        return _NETWORK_INPUTS[network_input]
    if network_input.endswith(LAG_SUFFIX):
        return network_input.removesuffix(LAG_SUFFIX) + SEASONAL_SUFFIX
    return network_input


def metric_of(feature: str) -> str | None:
    """The forecast target a feature is about (its own history or its lag), else None."""
    base = feature.removesuffix(SEASONAL_SUFFIX)
    return base if base in TARGETS else None


def label_of(feature: str) -> str:
    if feature in TARGET_LABELS:
        return TARGET_LABELS[feature]
    metric = metric_of(feature)
    if metric is not None:
        # the median of the same time on the model's `seasonal_days` days (1: yesterday)
        return f"{TARGET_LABELS[metric]} (same time on the previous days)"
    return OTHER_LABELS.get(feature, feature)


def stars(importance: float) -> str:
    """A 5-character ★/☆ string: round(importance * 5) filled stars."""
    filled = max(0, min(STAR_COUNT, round(importance * STAR_COUNT)))
    return "★" * filled + "☆" * (STAR_COUNT - filled)


@dataclass(frozen=True)
class FeatureImportance:
    """One feature: normalised importance (top = 1.0), stars and the raw measured value.

    `raw` is the network's mean variable-selection weight (a share of 1) for the TFT, or the
    occlusion effect in risk points for the fallback model.
    """

    feature: str
    importance: float
    stars: str
    label: str
    raw: float


def group_weights(names: Sequence[str], weights: Sequence[float]) -> dict[str, float]:
    """Sum the weights of network inputs that form one user-facing feature."""
    out: dict[str, float] = {}
    for name, weight in zip(names, weights, strict=True):
        feature = feature_of(name)
        out[feature] = out.get(feature, 0.0) + float(weight)
    return out


def rank(raw: Mapping[str, float]) -> tuple[FeatureImportance, ...]:
    """Every feature, most important first, normalised so that the top one is 1.0.

    All-zero input (nothing measurable) gives importance 0 everywhere rather than a division
    by zero that would invent a winner.
    """
    top = max(raw.values(), default=0.0)
    ordered = sorted(raw.items(), key=lambda kv: (-kv[1], kv[0]))
    out = []
    for feature, value in ordered:
        importance = round(value / top, 3) if top > 0 else 0.0
        out.append(
            FeatureImportance(feature, importance, stars(importance), label_of(feature), value)
        )
    return tuple(out)
