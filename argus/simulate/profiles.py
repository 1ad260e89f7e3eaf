"""What a typical server of each profile looks like: levels, daily shapes, incident mix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from argus.catalogue import GENERIC_PROFILE

Range = tuple[float, float]
FloatArray = npt.NDArray[np.float64]
Shape = Literal["business", "nightly_batch", "market", "training", "steady"]


@dataclass(frozen=True)
class ProfileSpec:
    """Per-profile ranges; each server draws its own levels from them."""

    shape: Shape
    weekend: float  # activity factor on Saturday and Sunday
    cpu_base: Range  # user + sys at the quietest hour, %
    cpu_amp: Range  # extra user + sys at the daily peak, %
    sys_share: float  # part of user + sys spent in the kernel
    java_share: float  # part of user CPU spent in JVMs
    iowait_base: Range
    iowait_amp: Range
    mem_base: Range
    mem_amp: Range
    disk_start: Range
    disk_growth_day: Range  # percentage points per day
    net_in: Range  # MB/s at the daily peak
    net_out: Range
    close_wait_back: Range  # typical sockets in CLOSE_WAIT at the peak
    close_wait_front: Range
    cores: int  # load average scales with the core count
    disk_io: Range | None  # MB/s at the peak; None: the collector does not send it
    phi: float  # lag-1 autocorrelation of the 5-minute noise
    incident_weights: tuple[tuple[str, float], ...]


PROFILE_SPECS: dict[str, ProfileSpec] = {
    "Database": ProfileSpec(
        "business",
        0.45,
        (12, 20),
        (20, 35),
        0.30,
        0.0,
        (1.5, 3),
        (2, 5),
        (62, 72),
        (4, 8),
        (45, 65),
        (0.15, 0.5),
        (20, 60),
        (30, 90),
        (5, 15),
        (2, 6),
        16,
        (40, 120),
        0.92,
        (("memory_leak", 1), ("disk_fill", 2), ("iowait_storm", 2), ("cpu_runaway", 1)),
    ),
    "ML Compute": ProfileSpec(
        "training",
        0.9,
        (30, 45),
        (15, 30),
        0.08,
        0.0,
        (0.5, 1.5),
        (0.5, 1),
        (55, 70),
        (5, 12),
        (35, 55),
        (0.2, 0.6),
        (5, 30),
        (2, 10),
        (1, 5),
        (1, 3),
        32,
        (20, 80),
        0.97,
        (("memory_leak", 3), ("cpu_runaway", 2), ("disk_fill", 1)),
    ),
    "Web API": ProfileSpec(
        "business",
        0.35,
        (6, 12),
        (25, 40),
        0.25,
        0.75,
        (0.3, 1),
        (0.3, 1),
        (45, 60),
        (5, 10),
        (25, 45),
        (0.05, 0.2),
        (10, 40),
        (15, 60),
        (10, 30),
        (10, 40),
        8,
        (2, 10),
        0.85,
        (("connection_leak", 3), ("memory_leak", 2), ("cpu_runaway", 1)),
    ),
    "Conductor Mgmt": ProfileSpec(
        "steady",
        0.8,
        (8, 14),
        (4, 8),
        0.20,
        0.65,
        (0.5, 1.5),
        (0.2, 0.8),
        (40, 55),
        (2, 5),
        (30, 50),
        (0.05, 0.2),
        (2, 10),
        (2, 10),
        (3, 10),
        (2, 8),
        8,
        (2, 8),
        0.90,
        (("memory_leak", 2), ("connection_leak", 2), ("cpu_runaway", 1)),
    ),
    "ETL/Ingest": ProfileSpec(
        "nightly_batch",
        1.0,
        (5, 10),
        (45, 60),
        0.15,
        0.55,
        (1, 3),
        (6, 10),
        (40, 55),
        (15, 25),
        (40, 60),
        (0.3, 0.8),
        (30, 120),
        (10, 40),
        (2, 8),
        (1, 4),
        16,
        (30, 150),
        0.93,
        (("disk_fill", 3), ("iowait_storm", 2), ("memory_leak", 1)),
    ),
    "Risk Analytics": ProfileSpec(
        "market",
        0.15,
        (5, 10),
        (45, 60),
        0.10,
        0.50,
        (0.5, 1.5),
        (1, 3),
        (50, 62),
        (15, 22),
        (30, 50),
        (0.1, 0.3),
        (5, 25),
        (5, 20),
        (2, 6),
        (1, 4),
        16,
        (10, 50),
        0.90,
        (("cpu_runaway", 3), ("memory_leak", 2), ("connection_leak", 1)),
    ),
    GENERIC_PROFILE: ProfileSpec(
        "steady",
        0.7,
        (3, 12),
        (3, 10),
        0.30,
        0.20,
        (0.3, 1.5),
        (0.2, 1),
        (30, 60),
        (2, 6),
        (20, 60),
        (0.02, 0.2),
        (0.5, 10),
        (0.5, 10),
        (0, 5),
        (0, 5),
        4,
        None,
        0.88,
        (("memory_leak", 2), ("disk_fill", 2), ("cpu_runaway", 1), ("connection_leak", 1)),
    ),
}

# Name prefix and relative share of a default 45-server fleet (6+5+5+5+3+6+5+10).
FLEET_MIX: tuple[tuple[str, int], ...] = (
    ("ppdb", 6),
    ("ppml", 5),
    ("ppapi", 5),
    ("ppweb", 5),
    ("ppcond", 3),
    ("ppetl", 6),
    ("pprisk", 5),
    ("ppgen", 10),
)


def _bump(hour: FloatArray, centre: float, width: float) -> FloatArray:
    """Return a Gaussian bump on the 24-hour circle."""
    dist = (hour - centre + 12.0) % 24.0 - 12.0
    return np.exp(-((dist / width) ** 2))


def _office(hour: FloatArray) -> FloatArray:
    return np.clip(np.sin(np.pi * (hour - 7.0) / 12.0), 0.0, None) ** 1.2


def daily_shape(shape: Shape, hour: FloatArray) -> FloatArray:
    """Return the activity (0 quiet .. about 1 peak) of a shape at each hour of the day."""
    out: FloatArray
    if shape == "business":
        out = _office(hour) + 0.35 * _bump(hour, 9.0, 0.6)
    elif shape == "nightly_batch":
        out = _bump(hour, 3.0, 1.5) + 0.3 * _bump(hour, 14.0, 2.0)
    elif shape == "market":
        out = 0.9 * _bump(hour, 7.5, 0.8) + _bump(hour, 17.0, 1.0) + 0.3 * _office(hour)
    elif shape == "training":
        out = 0.5 + 0.5 * np.sin(2.0 * np.pi * (hour - 2.0) / 24.0)
    else:
        out = 0.5 + 0.5 * np.sin(2.0 * np.pi * (hour - 8.0) / 24.0)
    return out


def morning_window(shape: Shape) -> bool:
    """Say whether servers of this shape report `morning_spike` between 07:00 and 10:00."""
    return shape in ("business", "market")
