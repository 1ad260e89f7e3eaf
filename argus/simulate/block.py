"""Turn raw signals into feed records: rounded, mutually consistent fields and a status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from argus.catalogue import METRIC_NAMES
from argus.simulate.fleet import Fleet
from argus.simulate.incidents import Incident, IntArray
from argus.simulate.profiles import PROFILE_SPECS, FloatArray, morning_window
from argus.simulate.signals import RawBlock
from argus.thresholds import threshold_for

RECOVERY_STEPS = 12  # a server reports `recovery` for an hour after a fix
COLUMNS: tuple[str, ...] = (
    "timestamp",
    "server_name",
    "profile",
    "status",
    *METRIC_NAMES,
    "disk_io_mb_s",
)


@dataclass(frozen=True)
class Block:
    """Consecutive 5-minute samples of the whole fleet: each column is (steps, servers)."""

    names: tuple[str, ...]
    profiles: tuple[str, ...]
    steps: IntArray
    minutes: IntArray  # minutes since 1970-01-01 UTC
    columns: dict[str, npt.NDArray[Any]]

    def timestamps(self) -> list[str]:
        """Return each row's time as ISO 8601 UTC with a Z."""
        stamps = np.datetime_as_string(self.minutes.astype("datetime64[m]"), unit="s")
        return [f"{s}Z" for s in stamps]

    def metric(self, metric: str, server: int) -> FloatArray:
        """Return a thresholds metric of one server, derived as in catalogue.derive_targets."""
        col = self.columns
        if metric == "cpu_pct":
            return 100.0 - col["cpu_idle_pct"][:, server]
        source = {
            "mem_pct": "mem_used_pct",
            "swap_pct": "swap_used_pct",
            "disk_pct": "disk_usage_pct",
            "iowait_pct": "cpu_iowait_pct",
            "load": "load_average",
        }.get(metric, metric)
        return np.asarray(col[source][:, server], dtype=float)

    def records(self) -> list[dict[str, Any]]:
        """Return the feed records, time-major (every server at one time, then the next)."""
        stamps = self.timestamps()
        lists = {name: self.columns[name].tolist() for name in (*METRIC_NAMES, "status")}
        disk_io = self.columns["disk_io_mb_s"].tolist()
        out: list[dict[str, Any]] = []
        for t, stamp in enumerate(stamps):
            for i, name in enumerate(self.names):
                rec: dict[str, Any] = {
                    "timestamp": stamp,
                    "server_name": name,
                    "profile": self.profiles[i],
                }
                rec.update({field: lists[field][t][i] for field in lists})
                if disk_io[t][i] == disk_io[t][i]:  # NaN: this server does not report it
                    rec["disk_io_mb_s"] = disk_io[t][i]
                out.append(rec)
        return out


def _cpu_columns(fleet: Fleet, busy: FloatArray, iowait: FloatArray) -> dict[str, FloatArray]:
    """Split CPU time so user + sys + iowait + idle is exactly 100.00."""
    sys_c = np.round(busy * fleet.levels["sys_share"] * 100.0)
    user_c = np.round(busy * 100.0) - sys_c
    io_c = np.round(iowait * 100.0)
    idle_c = 10000.0 - user_c - sys_c - io_c
    java = user_c / 100.0 * fleet.levels["java_share"] * fleet.levels["java_jitter"]
    return {
        "cpu_user_pct": user_c / 100.0,
        "cpu_sys_pct": sys_c / 100.0,
        "cpu_iowait_pct": io_c / 100.0,
        "cpu_idle_pct": idle_c / 100.0,
        "java_cpu_pct": np.floor(java * 100.0) / 100.0,
    }


def _traffic_columns(fleet: Fleet, raw: RawBlock) -> dict[str, npt.NDArray[Any]]:
    lv, act, sig = fleet.levels, raw.activity, raw.signals
    cw_front = lv["close_wait_front"] * (0.3 + 0.7 * act) * np.exp(sig["cw_front_noise"])
    disk_io = lv["disk_io"] * (0.2 + 0.8 * act) * np.exp(sig["disk_io_noise"]) + 3.0 * sig["iowait"]
    return {
        "net_in_mb_s": np.round(
            lv["net_in"] * (0.15 + 0.85 * act) * np.exp(sig["net_in_noise"]), 2
        ),
        "net_out_mb_s": np.round(
            lv["net_out"] * (0.15 + 0.85 * act) * np.exp(sig["net_out_noise"]), 2
        ),
        "back_close_wait": np.round(sig["cw_back"]).astype(np.int64),
        "front_close_wait": np.round(cw_front).astype(np.int64),
        "disk_io_mb_s": np.round(disk_io, 2),
    }


def _status(
    fleet: Fleet, raw: RawBlock, col: dict[str, npt.NDArray[Any]], incidents: list[Incident]
) -> npt.NDArray[np.str_]:
    cpu = 100.0 - col["cpu_idle_pct"]
    targets = {
        "cpu_pct": cpu,
        "mem_pct": col["mem_used_pct"],
        "swap_pct": col["swap_used_pct"],
        "iowait_pct": col["cpu_iowait_pct"],
        "disk_pct": col["disk_usage_pct"],
        "back_close_wait": col["back_close_wait"],
    }
    load_t = [threshold_for("load", p) for p in fleet.profiles]
    critical = col["load_average"] >= np.array([t.critical for t in load_t])
    warning = (col["load_average"] >= np.array([t.warning for t in load_t])) | (cpu >= 75.0)
    for metric, values in targets.items():
        critical |= values >= threshold_for(metric).critical
        warning |= values >= threshold_for(metric).warning
    recovering = np.zeros_like(critical)
    for inc in incidents:
        recovering[:, inc.server] |= (raw.steps >= inc.end) & (raw.steps < inc.end + RECOVERY_STEPS)
    hour = (raw.minutes % 1440) / 60.0
    weekday = ((raw.minutes // 1440 + 3) % 7) < 5
    morning = (weekday & (hour >= 7) & (hour < 10))[:, None] & np.array(
        [morning_window(PROFILE_SPECS[p].shape) for p in fleet.profiles]
    )[None, :]
    conditions = [
        raw.rebooted,
        critical,
        recovering,
        warning,
        morning & (raw.activity >= 0.8),
        cpu < 5.0,
    ]
    choices = ["maintenance", "critical_issue", "recovery", "heavy_load", "morning_spike", "idle"]
    return np.select(conditions, choices, default="healthy")


def assemble(fleet: Fleet, raw: RawBlock, incidents: list[Incident]) -> Block:
    """Round and derive every record field from the raw signals of a block."""
    sig, lv = raw.signals, fleet.levels
    col: dict[str, npt.NDArray[Any]] = dict(_cpu_columns(fleet, sig["busy"], sig["iowait"]))
    col["mem_used_pct"] = np.round(sig["mem"], 2)
    col["swap_used_pct"] = np.round(sig["swap"], 2)
    col["disk_usage_pct"] = np.round(sig["disk"], 2)
    col.update(_traffic_columns(fleet, raw))
    # Runnable plus I/O-blocked tasks: load follows CPU, and iowait adds to it as on Linux.
    jitter = 1.0 + sig["load_noise"]
    busy = col["cpu_user_pct"] + col["cpu_sys_pct"]
    col["load_average"] = np.round(
        lv["cores"] * (busy + 1.7 * col["cpu_iowait_pct"]) / 100.0 * jitter, 2
    )
    days = (raw.steps[:, None] - sig["boot"]) * 5.0 / 1440.0
    col["uptime_days"] = np.clip(np.floor(days), 0, 3650).astype(np.int64)
    col["status"] = _status(fleet, raw, col, incidents)
    return Block(fleet.names, fleet.profiles, raw.steps, raw.minutes, col)
