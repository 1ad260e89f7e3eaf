"""The metric catalogue: the one table of what a record holds, and the server profiles.

Everything that needs to know which metrics exist, their ranges, the statuses a server can report
or which profile a server belongs to reads it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Bump when a field is added, removed or changes meaning: models record the version they saw.
CATALOGUE_VERSION = 1

STEP_MINUTES = 5  # the model's step and the grid every server lives on

Status = Literal[
    "healthy",
    "critical_issue",
    "heavy_load",
    "idle",
    "maintenance",
    "morning_spike",
    "offline",
    "recovery",
]
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class MetricField:
    """One numeric field of a record."""

    name: str
    kind: type  # float or int
    lo: float
    hi: float | None  # None: no upper bound
    unit: str
    description: str


METRIC_FIELDS: tuple[MetricField, ...] = (
    MetricField("cpu_user_pct", float, 0, 100, "%", "CPU time in user space"),
    MetricField("cpu_sys_pct", float, 0, 100, "%", "CPU time in the kernel"),
    MetricField("cpu_iowait_pct", float, 0, 100, "%", "CPU time waiting on I/O"),
    MetricField("cpu_idle_pct", float, 0, 100, "%", "idle CPU time"),
    MetricField("java_cpu_pct", float, 0, 100, "%", "CPU used by JVM processes"),
    MetricField("mem_used_pct", float, 0, 100, "%", "memory in use"),
    MetricField("swap_used_pct", float, 0, 100, "%", "swap in use"),
    MetricField("disk_usage_pct", float, 0, 100, "%", "disk space in use"),
    MetricField("net_in_mb_s", float, 0, None, "MB/s", "network receive rate"),
    MetricField("net_out_mb_s", float, 0, None, "MB/s", "network transmit rate"),
    MetricField("back_close_wait", int, 0, None, "sockets", "back-end sockets in CLOSE_WAIT"),
    MetricField("front_close_wait", int, 0, None, "sockets", "front-end sockets in CLOSE_WAIT"),
    MetricField("load_average", float, 0, None, "", "1-minute load average"),
    MetricField("uptime_days", int, 0, 3650, "days", "days since the last boot"),
)
METRIC_NAMES: tuple[str, ...] = tuple(f.name for f in METRIC_FIELDS)

# Optional: a server that never sends it shows "n/a".
OPTIONAL_FIELDS: tuple[MetricField, ...] = (
    MetricField("disk_io_mb_s", float, 0, None, "MB/s", "disk read + write rate"),
)

# The model's targets, derived from the record fields (see `derive_targets`).
TARGETS: tuple[str, ...] = ("cpu_pct", "mem_pct", "swap_pct", "iowait_pct", "load", "disk_pct")


def derive_targets(record: dict[str, float]) -> dict[str, float]:
    """Map one record's fields to the model's target values."""
    return {
        "cpu_pct": 100.0 - record["cpu_idle_pct"],
        "mem_pct": record["mem_used_pct"],
        "swap_pct": record["swap_used_pct"],
        "iowait_pct": record["cpu_iowait_pct"],
        "load": record["load_average"],
        "disk_pct": record["disk_usage_pct"],
    }


# Name prefix -> profile, checked in order (ppcond before ppcon).
PROFILE_PREFIXES: tuple[tuple[str, str], ...] = (
    ("ppdb", "Database"),
    ("ppml", "ML Compute"),
    ("ppapi", "Web API"),
    ("ppweb", "Web API"),
    ("ppcond", "Conductor Mgmt"),
    ("ppcon", "Conductor Mgmt"),
    ("ppetl", "ETL/Ingest"),
    ("pprisk", "Risk Analytics"),
)
GENERIC_PROFILE = "Generic"
PROFILES: tuple[str, ...] = tuple(dict.fromkeys(p for _, p in PROFILE_PREFIXES)) + (
    GENERIC_PROFILE,
)


def profile_for(server_name: str) -> str:
    """Derive a server's profile from its name prefix (DESIGN.md §2)."""
    lowered = server_name.lower()
    for prefix, profile in PROFILE_PREFIXES:
        if lowered.startswith(prefix):
            return profile
    return GENERIC_PROFILE
