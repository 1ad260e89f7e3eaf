"""The single table of warning/critical thresholds per metric, and the alert levels."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from argus.catalogue import GENERIC_PROFILE


@dataclass(frozen=True)
class Threshold:
    """Warning and critical values of one metric; a breach is value >= critical."""

    warning: float
    critical: float


# Forecast targets (DESIGN.md §4) plus back_close_wait, which the connection-leak incident breaches.
THRESHOLDS: dict[str, Threshold] = {
    "cpu_pct": Threshold(85, 95),
    "mem_pct": Threshold(90, 98),
    "swap_pct": Threshold(25, 50),
    "iowait_pct": Threshold(20, 30),
    "disk_pct": Threshold(85, 95),
    "back_close_wait": Threshold(200, 500),
}

# Typical cores of a profile's machines; the simulator's profiles use the same numbers.
PROFILE_CORES: dict[str, int] = {
    "Database": 16,
    "ML Compute": 32,
    "Web API": 8,
    "Conductor Mgmt": 8,
    "ETL/Ingest": 16,
    "Risk Analytics": 16,
    GENERIC_PROFILE: 4,
}
# A load average at the core count means the CPUs are saturated (warning); half again more means
# work is queueing (critical).
LOAD_THRESHOLDS: dict[str, Threshold] = {
    profile: Threshold(float(cores), 1.5 * cores) for profile, cores in PROFILE_CORES.items()
}
# A server that reports its CPU count (`cpu_cores` in the feed) gets the same rule on its own
# count: see `load_threshold` and `cores_for`.


def load_threshold(cores: int) -> Threshold:
    """Load thresholds of a server with `cores` CPUs (the rule LOAD_THRESHOLDS applies)."""
    return Threshold(float(cores), 1.5 * cores)


def cores_for(profile: str, reported: int | None) -> tuple[int, str]:
    """The CPU count that sets a server's load thresholds and where it came from: the count the
    server reported ("reported"), else its profile's typical count ("profile")."""
    if reported:
        return int(reported), "reported"
    return PROFILE_CORES.get(profile, PROFILE_CORES[GENERIC_PROFILE]), "profile"


def threshold_for(
    metric: str, profile: str = GENERIC_PROFILE, cores: int | None = None
) -> Threshold:
    """Return the thresholds of `metric` for a server of `profile` (with `cores` CPUs, if known)."""
    if metric == "load":
        if cores:
            return load_threshold(cores)
        return LOAD_THRESHOLDS.get(profile, LOAD_THRESHOLDS[GENERIC_PROFILE])
    return THRESHOLDS[metric]


class Level(StrEnum):
    """Alert levels, most severe first."""

    CRITICAL = "critical"
    WARNING = "warning"
    DEGRADED = "degraded"
    HEALTHY = "healthy"


@dataclass(frozen=True)
class LevelBand:
    """Where a level starts on the 0-100 risk scale and how dashboards show it."""

    min_score: float
    color: str
    emoji: str

    def label(self, level: Level) -> str:
        return f"{self.emoji} {level.value.title()}"


LEVELS: dict[Level, LevelBand] = {
    Level.CRITICAL: LevelBand(80, "#FF0000", "🔴"),
    Level.WARNING: LevelBand(60, "#FFA500", "🟠"),
    Level.DEGRADED: LevelBand(50, "#FFD700", "🟡"),
    Level.HEALTHY: LevelBand(0, "#00FF00", "🟢"),
}


def level_for(score: float) -> Level:
    """Map a 0-100 risk score to its level."""
    for level, band in LEVELS.items():
        if score >= band.min_score:
            return level
    return Level.HEALTHY
