"""The metric catalogue: the one table of what a record holds, and the server profiles.

Everything that needs to know which metrics exist, their ranges, the statuses a server can report
or which profile a server belongs to reads it here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

# Bump when a field is added, removed or changes meaning: models record the version they saw.
# Still 1 with `cpu_cores` and the absentable metrics: no model reads either, and the fields
# models read kept their meaning, so saved models keep loading.
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

# Metrics a record may leave out or send as null: the application's own (a host collector cannot
# see them) and those some sources lack (psutil has no iowait off Linux; a host may have no real
# filesystem). A server that never reports one gets no forecast or risk for what derives from it.
ABSENTABLE_METRICS: frozenset[str] = frozenset(
    {"java_cpu_pct", "back_close_wait", "front_close_wait", "cpu_iowait_pct", "disk_usage_pct"}
)
# The server's CPU count, when the sender knows it: it sets the load thresholds (else the
# profile's typical count). Kept apart from OPTIONAL_FIELDS, whose columns migration 1 created.
CPU_CORES_FIELD = MetricField("cpu_cores", int, 1, 4096, "cores", "logical CPUs of the server")

# Optional: a server that never sends it shows "n/a".
OPTIONAL_FIELDS: tuple[MetricField, ...] = (
    MetricField("disk_io_mb_s", float, 0, None, "MB/s", "disk read + write rate"),
)

# The model's targets, derived from the record fields (see `derive_targets`).
TARGETS: tuple[str, ...] = ("cpu_pct", "mem_pct", "swap_pct", "iowait_pct", "load", "disk_pct")


def field_value(record: Mapping[str, Any], name: str) -> float | None:
    """A record's numeric field `name` (None: the record lacks it; NaN counts as lacking)."""
    value = record.get(name)
    return None if value is None or value != value else float(value)


def derive_targets(record: Mapping[str, Any]) -> dict[str, float | None]:
    """Map one record's fields to the model's target values (None: the record lacks it)."""
    idle = field_value(record, "cpu_idle_pct")
    return {
        "cpu_pct": None if idle is None else 100.0 - idle,
        "mem_pct": field_value(record, "mem_used_pct"),
        "swap_pct": field_value(record, "swap_used_pct"),
        "iowait_pct": field_value(record, "cpu_iowait_pct"),
        "load": field_value(record, "load_average"),
        "disk_pct": field_value(record, "disk_usage_pct"),
    }


# The record field each target is read from: a server that never sends it has no such target.
TARGET_SOURCES: dict[str, str] = {
    "cpu_pct": "cpu_idle_pct",
    "mem_pct": "mem_used_pct",
    "swap_pct": "swap_used_pct",
    "iowait_pct": "cpu_iowait_pct",
    "load": "load_average",
    "disk_pct": "disk_usage_pct",
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
