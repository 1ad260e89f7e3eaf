"""The seed's bands: fleet health status, cascade risk, and cascade severity by fleet share."""

from __future__ import annotations

from typing import Literal

HealthStatus = Literal["healthy", "degraded", "warning", "critical"]
CascadeRisk = Literal["low", "medium", "high"]
Severity = Literal["low", "medium", "high", "critical"]

# (lowest health score, status), best first: the REST guide's "Health Status Levels" table.
HEALTH_BANDS: tuple[tuple[float, HealthStatus], ...] = (
    (80.0, "healthy"),
    (60.0, "degraded"),
    (40.0, "warning"),
    (0.0, "critical"),
)

# The REST guide's "Cascade Risk Levels": low 0-0.5, medium 0.5-0.7, high above 0.7.
RISK_MEDIUM_FROM = 0.5
RISK_HIGH_ABOVE = 0.7

# (smallest share of the fleet affected, severity), worst first. Ours: the guide shows 3 of 45
# servers (6.7 %) as "medium" and gives no table.
SEVERITY_BANDS: tuple[tuple[float, Severity], ...] = (
    (0.35, "critical"),
    (0.15, "high"),
    (0.05, "medium"),
    (0.0, "low"),
)


def health_score(anomaly_rate: float, correlation_score: float) -> float:
    """Return 100 x (1 - anomaly_rate) x (1 - correlation_score / 2), on 0-100.

    Independent anomalies cost their share of the fleet; correlation between the anomalous
    servers (the mark of a shared cause) costs up to half of what is left.
    """
    rate = min(max(anomaly_rate, 0.0), 1.0)
    corr = min(max(correlation_score, 0.0), 1.0)
    return round(100.0 * (1.0 - rate) * (1.0 - corr / 2.0), 1)


def health_status(score: float) -> HealthStatus:
    """Return the band of a health score."""
    for lowest, status in HEALTH_BANDS:
        if score >= lowest:
            return status
    return "critical"


def cascade_risk(correlation_score: float) -> CascadeRisk:
    """Return the cascade risk of a correlation score."""
    if correlation_score > RISK_HIGH_ABOVE:
        return "high"
    if correlation_score >= RISK_MEDIUM_FROM:
        return "medium"
    return "low"


def severity(affected: int, total: int) -> Severity:
    """Return a cascade's severity from the share of the fleet it affects."""
    share = affected / total if total else 0.0
    for lowest, band in SEVERITY_BANDS:
        if share >= lowest:
            return band
    return "low"
