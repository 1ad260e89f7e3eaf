"""The local host, sampled with psutil, as feed records (what `argus agent` sends).

The fields follow the node_exporter mapping of `argus.sources.prometheus` where it applies: CPU
shares per mode over the interval between two samples (user + nice, system + irq + softirq,
iowait, idle), memory as 1 − available / total, the fullest real filesystem as df's Use%, network
and disk rates over the interval in MB/s (10^6 bytes), the 1-minute load, whole days since boot
and the CPU count. psutil cannot see the application's metrics (java_cpu_pct, back_close_wait,
front_close_wait), and has no iowait off Linux: those are left out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psutil

MB = 1e6
# psutil's CPU modes per record field; guest time is already counted in user time.
CPU_MODES: dict[str, tuple[str, ...]] = {
    "cpu_user_pct": ("user", "nice"),
    "cpu_sys_pct": ("system", "irq", "softirq"),
    "cpu_iowait_pct": ("iowait",),
    "cpu_idle_pct": ("idle",),
}
_NOT_TIME = ("guest", "guest_nice")


@dataclass(frozen=True)
class HostSample:
    """Cumulative counters and instant values of the host at one moment."""

    at: float  # epoch seconds
    cpu: dict[str, float]  # psutil.cpu_times() fields, cumulative seconds
    mem_pct: float
    swap_pct: float
    disk_pct: float | None  # the fullest real filesystem; None where there is none
    net_rx: int  # bytes, every interface but lo
    net_tx: int
    disk_bytes: int | None  # bytes read + written, every disk
    load1: float
    boot_time: float
    cores: int


def _fullest_filesystem() -> float | None:
    usage = []
    for part in psutil.disk_partitions(all=False):  # real devices only
        try:
            usage.append(psutil.disk_usage(part.mountpoint).percent)
        except OSError:  # a mount we may not read
            continue
    return max(usage) if usage else None


def take_sample() -> HostSample:
    """Read the host now."""
    nics = psutil.net_io_counters(pernic=True)
    disks = psutil.disk_io_counters()
    return HostSample(
        at=time.time(),
        cpu=psutil.cpu_times()._asdict(),
        mem_pct=psutil.virtual_memory().percent,
        swap_pct=psutil.swap_memory().percent,
        disk_pct=_fullest_filesystem(),
        net_rx=sum(n.bytes_recv for name, n in nics.items() if name != "lo"),
        net_tx=sum(n.bytes_sent for name, n in nics.items() if name != "lo"),
        disk_bytes=None if disks is None else disks.read_bytes + disks.write_bytes,
        load1=psutil.getloadavg()[0],
        boot_time=psutil.boot_time(),
        cores=psutil.cpu_count() or 1,
    )


def _rate(before: float, after: float, seconds: float) -> float:
    """MB/s between two counter readings; a counter that went back (reboot) counts as 0."""
    return round(max(after - before, 0) / seconds / MB, 4)


def _cpu_shares(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    delta = {k: max(after[k] - before.get(k, 0.0), 0.0) for k in after if k not in _NOT_TIME}
    total = sum(delta.values())
    out = {}
    for field, modes in CPU_MODES.items():
        if total > 0 and any(m in delta for m in modes):
            out[field] = round(min(100.0 * sum(delta.get(m, 0.0) for m in modes) / total, 100.0), 4)
    return out


def to_record(
    before: HostSample, after: HostSample, server: str, profile: str | None = None
) -> dict[str, Any]:
    """The feed record for the interval between two samples, stamped with the second's time."""
    seconds = max(after.at - before.at, 1e-3)
    record: dict[str, Any] = {
        "timestamp": datetime.fromtimestamp(after.at, UTC).replace(tzinfo=None).isoformat(),
        "server_name": server,
        "status": "healthy",
        **_cpu_shares(before.cpu, after.cpu),
        "mem_used_pct": round(after.mem_pct, 4),
        "swap_used_pct": round(after.swap_pct, 4),
        "net_in_mb_s": _rate(before.net_rx, after.net_rx, seconds),
        "net_out_mb_s": _rate(before.net_tx, after.net_tx, seconds),
        "load_average": round(after.load1, 4),
        "uptime_days": int(max(after.at - after.boot_time, 0) // 86400),
        "cpu_cores": after.cores,
    }
    if after.disk_pct is not None:
        record["disk_usage_pct"] = round(after.disk_pct, 4)
    if before.disk_bytes is not None and after.disk_bytes is not None:
        record["disk_io_mb_s"] = _rate(before.disk_bytes, after.disk_bytes, seconds)
    if profile:
        record["profile"] = profile
    return record
