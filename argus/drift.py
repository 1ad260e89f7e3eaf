"""Model drift from real data: realised forecast error, input distribution shift, band misses.

- PER (prediction error rate): for each target, the mean absolute error of the P50 forecasts whose
  target time fell in the rolling window, divided by the target's scale (100 for percentages, the
  critical load threshold of the server's profile for load); PER is the mean over targets. 0.10
  means the forecasts were off by a tenth of the scale on average.
- FDS (feature drift score), per model input: the population stability index (PSI) of the inputs'
  recent distribution (the window, all servers) against the histogram saved with the model.
- DSS (distribution shift score): the mean FDS over the inputs.
  Disk usage is reported in the feature drift but left out of DSS and FDS: it trends by nature
  (it grows until a clean-up), so its level always leaves the training range and would make every
  check a drift.
- anomaly_rate: the share of actuals outside their P10-P90 band, beyond the 20 % expected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from argus.thresholds import threshold_for

TRENDING_INPUTS = frozenset({"disk_pct"})  # reported, but not counted in DSS / FDS
PSI_FLOOR = 1e-4  # an empty bin would make PSI infinite
MIN_POINTS = 50  # fewer realised forecasts than this and PER is not reported
MIN_VALUES = 288  # fewer recent values than this (a day of one server) and PSI is not reported
EXPECTED_OUTSIDE = 0.2  # a calibrated P10-P90 band misses 20 % of actuals


@dataclass(frozen=True)
class DriftThresholds:
    per: float = 0.10
    dss: float = 0.20
    fds: float = 0.15
    anomaly_rate: float = 0.05


def psi(edges: Sequence[float], shares: Sequence[float], values: np.ndarray) -> float:
    """Population stability index of `values` against a reference histogram."""
    inner = np.asarray(edges[1:-1], dtype=float)
    counts = np.bincount(np.searchsorted(inner, values, side="right"), minlength=len(shares))
    actual = np.maximum(counts / max(len(values), 1), PSI_FLOOR)
    expected = np.maximum(np.asarray(shares, dtype=float), PSI_FLOOR)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def feature_drift(
    reference: Mapping[str, Mapping[str, Any]], recent: Mapping[str, np.ndarray]
) -> dict[str, float]:
    """PSI per input that has a reference histogram and enough recent values."""
    out = {}
    for name, stats in reference.items():
        values = np.asarray(recent.get(name, ()), dtype=float)
        values = values[np.isfinite(values)]
        if len(values) >= MIN_VALUES and "histogram" in stats:
            hist = stats["histogram"]
            out[name] = round(psi(hist["edges"], hist["shares"], values), 4)
    return out


@dataclass(frozen=True)
class Realised:
    """A past forecast with the actual that arrived for it (see storage.forecasts)."""

    target: str
    profile: str
    p10: float
    p50: float
    p90: float
    actual: float


def _scale(target: str, profile: str) -> float:
    return threshold_for("load", profile).critical if target == "load" else 100.0


def prediction_error(points: Sequence[Realised]) -> dict[str, float]:
    """Scaled mean absolute P50 error per target."""
    by_target: dict[str, list[float]] = {}
    for p in points:
        by_target.setdefault(p.target, []).append(
            abs(p.p50 - p.actual) / _scale(p.target, p.profile)
        )
    return {t: round(float(np.mean(errs)), 4) for t, errs in by_target.items()}


def band_misses(points: Sequence[Realised]) -> float:
    """Share of actuals outside their P10-P90 band."""
    outside = [p.actual < p.p10 or p.actual > p.p90 for p in points]
    return float(np.mean(outside)) if outside else 0.0


@dataclass(frozen=True)
class DriftAssessment:
    per: float | None
    per_by_target: dict[str, float]
    dss: float | None
    fds: float | None
    feature_drift: dict[str, float]
    anomaly_rate: float | None
    band_miss_rate: float | None
    realised_points: int
    thresholds: DriftThresholds
    reasons: list[str] = field(default_factory=list)

    @property
    def drift_detected(self) -> bool:
        return bool(self.reasons)

    def status(self, metric: str) -> str:
        """'ok', 'warning' (above 75 % of the threshold), 'drift' or 'insufficient_data'."""
        value, limit = getattr(self, metric), getattr(self.thresholds, metric)
        if value is None:
            return "insufficient_data"
        if value >= limit:
            return "drift"
        return "warning" if value >= 0.75 * limit else "ok"


def assess(
    reference: Mapping[str, Mapping[str, Any]],
    recent: Mapping[str, np.ndarray],
    points: Sequence[Realised],
    thresholds: DriftThresholds | None = None,
) -> DriftAssessment:
    """Compute every drift metric and say which thresholds are crossed."""
    limits = thresholds or DriftThresholds()
    fds_map = feature_drift(reference, recent)
    per_map = prediction_error(points) if len(points) >= MIN_POINTS else {}
    per = round(float(np.mean(list(per_map.values()))), 4) if per_map else None
    misses = band_misses(points) if len(points) >= MIN_POINTS else None
    anomaly = None if misses is None else round(max(0.0, misses - EXPECTED_OUTSIDE), 4)
    counted = {k: v for k, v in fds_map.items() if k not in TRENDING_INPUTS}
    dss = round(float(np.mean(list(counted.values()))), 4) if counted else None
    fds = max(counted.values()) if counted else None
    reasons = []
    if per is not None and per >= limits.per:
        reasons.append(f"forecast error {per:.1%} of scale exceeds {limits.per:.0%}")
    if dss is not None and dss >= limits.dss:
        reasons.append(f"input distribution shift (mean PSI {dss:.2f}) exceeds {limits.dss:.2f}")
    if fds is not None and fds >= limits.fds:
        worst = max(counted, key=lambda k: counted[k])
        reasons.append(f"{worst} drifted (PSI {fds:.2f}) beyond {limits.fds:.2f}")
    if anomaly is not None and anomaly >= limits.anomaly_rate:
        reasons.append(f"{misses:.0%} of actuals fell outside the P10-P90 band (20 % expected)")
    return DriftAssessment(
        per, per_map, dss, fds, fds_map, anomaly, misses, len(points), limits, reasons
    )
