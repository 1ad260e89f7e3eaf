"""What one detection concluded: immutable records the daemon stores and serves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from argus.cascade.bands import CascadeRisk, HealthStatus, Severity


@dataclass(frozen=True)
class Cascade:
    """One metric (or one correlated group) anomalous on several servers together."""

    metric: str
    affected_servers: tuple[str, ...]  # in the order their anomalies began
    severity: Severity
    rule: str  # "count": >= cascade_servers on one metric; "correlation": signals correlate
    correlation: float  # mean pairwise correlation of the members' anomaly signals
    onsets: tuple[datetime, ...]  # when each affected server's anomaly began


@dataclass(frozen=True)
class CascadeResult:
    """The fleet at one 5-minute bucket: anomalies, correlation, cascades, health."""

    timestamp: datetime  # the bucket evaluated (data time)
    total_servers: int
    anomalous_servers: tuple[str, ...]
    correlation_score: float
    cascades: tuple[Cascade, ...]
    affected_servers: tuple[str, ...]  # union of the cascades, in onset order
    origin: str | None  # the affected server whose anomaly began first
    origin_profile: str | None
    recommendations: tuple[str, ...]
    health_score: float
    status: HealthStatus
    cascade_risk: CascadeRisk
    baseline: str  # "seasonal" (same time of day) or "rolling" (under a day of history)
    metrics: tuple[str, ...] = field(default_factory=tuple)
    affected_profiles: tuple[str, ...] = ()  # the profile of each affected server, in its order
    # Affected servers outside every cascade (their anomaly began first and follows the
    # cascades' signal), each with the index in `cascades` of the one it follows most closely.
    linked: tuple[tuple[str, int], ...] = ()

    @property
    def cascade_detected(self) -> bool:
        return bool(self.cascades)

    @property
    def servers_with_anomalies(self) -> int:
        return len(self.anomalous_servers)

    @property
    def anomaly_rate(self) -> float:
        return self.servers_with_anomalies / self.total_servers if self.total_servers else 0.0

    @property
    def severity(self) -> Severity | None:
        """Return the worst severity among the cascades."""
        order = ("low", "medium", "high", "critical")
        if not self.cascades:
            return None
        return max((c.severity for c in self.cascades), key=order.index)
