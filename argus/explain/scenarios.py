"""Input modifications: counterfactual scenarios and occlusions of one server's history.

Everything here edits a grid frame (one row per 5-minute bucket, the targets as columns, see
`argus.forecast.frame`) and returns a modified copy under a new server name, so the real
server and all its variants can be forecast in one batched model run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from argus.catalogue import TARGETS
from argus.forecast.frame import DAY_STEPS
from argus.thresholds import threshold_for

VARIANT_MARK = "~"  # server names never contain it (DESIGN.md §2 names are plain identifiers)
OCCLUDE_STEPS = DAY_STEPS  # occlusion hides the last day of one metric
NEUTRAL_SHARE = 0.8  # of the warning threshold: the highest level an occluded metric takes


@dataclass(frozen=True)
class Scenario:
    """An actionable change an operator could make, as a change of the model's inputs.

    The change applies to the whole history the model reads: "had this server run with 15 %
    less memory", which keeps the shape of a trend (a leak keeps leaking) and moves its level.
    """

    key: str
    metrics: tuple[str, ...]  # the risk metrics it acts on
    title: str
    recommendation: str
    change: Callable[[pd.DataFrame], dict[str, np.ndarray]]


def _scaled(column: str, factor: float) -> Callable[[pd.DataFrame], dict[str, np.ndarray]]:
    return lambda g: {column: g[column].to_numpy() * factor}


def _shed_cpu(g: pd.DataFrame) -> dict[str, np.ndarray]:
    return {"cpu_pct": g["cpu_pct"].to_numpy() * 0.75, "load": g["load"].to_numpy() * 0.75}


def _free_disk(g: pd.DataFrame) -> dict[str, np.ndarray]:
    return {"disk_pct": np.maximum(g["disk_pct"].to_numpy() - 10.0, 0.0)}


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "reduce_memory",
        ("mem_pct",),
        "Reduce memory by 15%",
        "Restart or recycle memory-heavy processes (check for a leak) or add memory",
        _scaled("mem_pct", 0.85),
    ),
    Scenario(
        "shed_cpu",
        ("cpu_pct", "load"),
        "Shed 25% of CPU load",
        "Move batch jobs or traffic to other servers (scale out) or throttle the heaviest jobs",
        _shed_cpu,
    ),
    Scenario(
        "clear_swap",
        ("swap_pct",),
        "Clear swap",
        "Free memory first, then bring pages back from swap (swapoff -a && swapon -a)",
        lambda g: {"swap_pct": np.zeros(len(g))},
    ),
    Scenario(
        "halve_iowait",
        ("iowait_pct",),
        "Halve I/O wait",
        "Reschedule I/O-heavy jobs off-peak or move them to faster storage",
        _scaled("iowait_pct", 0.5),
    ),
    Scenario(
        "free_disk",
        ("disk_pct",),
        "Free 10% of disk",
        "Rotate and compress logs, purge old files or temporary data, or grow the volume",
        _free_disk,
    ),
)


def variant_name(server: str, key: str) -> str:
    return f"{server}{VARIANT_MARK}{key}"


def occluded_name(server: str, target: str) -> str:
    return variant_name(server, f"occlude:{target}")


def apply_scenario(grid: pd.DataFrame, scenario: Scenario, server: str) -> pd.DataFrame:
    """A copy of one server's grid with the scenario applied, named as its variant."""
    out = grid.copy()
    for column, values in scenario.change(grid).items():
        out[column] = values
    out["server"] = variant_name(server, scenario.key)
    return out


def occlusion_level(values: np.ndarray, target: str, profile: str) -> float:
    """The neutral level a hidden metric takes: its median over the history, capped at
    NEUTRAL_SHARE of its warning threshold so that a metric stuck in breach is compared with
    an ordinary level rather than with itself."""
    cap = NEUTRAL_SHARE * threshold_for(target, profile).warning
    return min(float(np.nanmedian(values)), cap)


def occlude(grid: pd.DataFrame, target: str, server: str, profile: str) -> pd.DataFrame:
    """A copy whose last day of `target` is replaced by its neutral level.

    "What would the model say had this metric sat at an ordinary level for the last day": the
    hidden day covers the TFT's whole encoder, and both things the seasonal-naive rule reads
    (the same hours yesterday and the latest sample).
    """
    out = grid.copy()
    values = out[target].to_numpy(dtype=np.float64).copy()
    values[-OCCLUDE_STEPS:] = occlusion_level(values, target, profile)
    out[target] = values
    out["server"] = occluded_name(server, target)
    return out


def occlusions(grid: pd.DataFrame, server: str, profile: str) -> dict[str, pd.DataFrame]:
    """One occluded copy per target."""
    return {target: occlude(grid, target, server, profile) for target in TARGETS}


def present_values(grid: pd.DataFrame) -> dict[str, float | None]:
    """The latest bucket's targets: what the risk engine calls the present."""
    last = grid.iloc[-1]
    return {t: float(last[t]) for t in TARGETS}
