"""Cascading-failure detection and fleet health (numpy only: no Flask, DuckDB or typer)."""

from argus.cascade.bands import (
    HEALTH_BANDS,
    SEVERITY_BANDS,
    cascade_risk,
    health_score,
    health_status,
    severity,
)
from argus.cascade.cube import MetricCube, from_frame, from_grid
from argus.cascade.detector import (
    detect,
    earlier_signals,
    result_from_findings,
    signals,
)
from argus.cascade.result import Cascade, CascadeResult
from argus.cascade.rules import find_groups
from argus.cascade.settings import TRACKED_METRICS, CascadeSettings

__all__ = [
    "HEALTH_BANDS",
    "SEVERITY_BANDS",
    "TRACKED_METRICS",
    "Cascade",
    "CascadeResult",
    "CascadeSettings",
    "MetricCube",
    "cascade_risk",
    "detect",
    "earlier_signals",
    "find_groups",
    "from_frame",
    "from_grid",
    "health_score",
    "health_status",
    "result_from_findings",
    "severity",
    "signals",
]
