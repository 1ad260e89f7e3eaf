"""node_exporter series, read through Prometheus's HTTP API, as feed records.

`MAPPING` is the one table of how each record field is computed from node_exporter's series
(docs/ingest.md prints it). Each entry is a PromQL expression aggregated by the server label, so
one range query per field returns the field for every server and step. Rates are averaged over
the pull's step, so each pulled sample stands for the time since the one before.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Filesystem types that hold no user data (memory, kernel, container layers, images).
VIRTUAL_FS = (
    "tmpfs|devtmpfs|ramfs|overlay|squashfs|erofs|iso9660|nsfs|autofs|proc|sysfs|"
    "cgroup2?|fuse|fuse[.].*"
)


@dataclass(frozen=True)
class SeriesMapping:
    """How one record field comes from node_exporter."""

    field: str
    series: str  # the node_exporter series it is read from
    how: str  # in words, for the docs
    # PromQL; $L is the server label, $M the label matchers (the server label set, plus the
    # selector), $W the rate window.
    promql: str


def _cpu(field: str, modes: str, how: str) -> SeriesMapping:
    return SeriesMapping(
        field,
        "node_cpu_seconds_total",
        how,
        f'100 * sum by ($L) (rate(node_cpu_seconds_total{{mode=~"{modes}",$M}}[$W]))'
        " / sum by ($L) (rate(node_cpu_seconds_total{$M}[$W]))",
    )


_FS = '{$M,fstype!~"' + VIRTUAL_FS + '"}'
_USED = f"(node_filesystem_size_bytes{_FS} - node_filesystem_free_bytes{_FS})"

MAPPING: tuple[SeriesMapping, ...] = (
    _cpu("cpu_user_pct", "user|nice", "share of all CPU time in modes user + nice"),
    _cpu("cpu_sys_pct", "system|irq|softirq", "share in modes system + irq + softirq"),
    _cpu("cpu_iowait_pct", "iowait", "share in mode iowait"),
    _cpu("cpu_idle_pct", "idle", "share in mode idle"),
    SeriesMapping(
        "mem_used_pct",
        "node_memory_MemAvailable_bytes, node_memory_MemTotal_bytes",
        "100 × (1 − MemAvailable / MemTotal)",
        "100 * (1 - sum by ($L) (node_memory_MemAvailable_bytes{$M})"
        " / sum by ($L) (node_memory_MemTotal_bytes{$M}))",
    ),
    SeriesMapping(
        "swap_used_pct",
        "node_memory_SwapFree_bytes, node_memory_SwapTotal_bytes",
        "100 × (1 − SwapFree / SwapTotal); 0 on a host without swap",
        "(100 * (1 - sum by ($L) (node_memory_SwapFree_bytes{$M})"
        " / (sum by ($L) (node_memory_SwapTotal_bytes{$M}) > 0)))"
        " or (sum by ($L) (node_memory_SwapTotal_bytes{$M}) * 0)",
    ),
    SeriesMapping(
        "disk_usage_pct",
        "node_filesystem_size_bytes, _free_bytes, _avail_bytes",
        "the fullest real filesystem, as df's Use%: used / (used + avail), used = size − free",
        f"max by ($L) (100 * {_USED} / ({_USED} + node_filesystem_avail_bytes{_FS}))",
    ),
    SeriesMapping(
        "net_in_mb_s",
        "node_network_receive_bytes_total",
        "receive rate of every interface but lo, MB/s (10^6 bytes)",
        'sum by ($L) (rate(node_network_receive_bytes_total{device!="lo",$M}[$W])) / 1e6',
    ),
    SeriesMapping(
        "net_out_mb_s",
        "node_network_transmit_bytes_total",
        "transmit rate of every interface but lo, MB/s",
        'sum by ($L) (rate(node_network_transmit_bytes_total{device!="lo",$M}[$W])) / 1e6',
    ),
    SeriesMapping(
        "load_average",
        "node_load1",
        "1-minute load average",
        "max by ($L) (node_load1{$M})",
    ),
    SeriesMapping(
        "uptime_days",
        "node_boot_time_seconds",
        "whole days since boot",
        "floor(max by ($L) (time() - node_boot_time_seconds{$M}) / 86400)",
    ),
    SeriesMapping(
        "disk_io_mb_s",
        "node_disk_read_bytes_total, node_disk_written_bytes_total",
        "read + write rate of every disk, MB/s",
        "sum by ($L) (rate(node_disk_read_bytes_total{$M}[$W])"
        " + rate(node_disk_written_bytes_total{$M}[$W])) / 1e6",
    ),
    SeriesMapping(
        "cpu_cores",
        "node_cpu_seconds_total",
        "number of CPUs (sets the load thresholds)",
        'count by ($L) (node_cpu_seconds_total{mode="idle",$M})',
    ),
)
# What node_exporter cannot tell: the application's own metrics.
NOT_PROVIDED: tuple[str, ...] = ("java_cpu_pct", "back_close_wait", "front_close_wait")
_INTEGER_FIELDS = frozenset({"uptime_days", "cpu_cores"})
_PERCENT_FIELDS = frozenset(
    {"cpu_user_pct", "cpu_sys_pct", "cpu_iowait_pct", "cpu_idle_pct", "mem_used_pct",
     "swap_used_pct", "disk_usage_pct"}
)  # fmt: skip


def queries(label: str, selector: str, window_seconds: int) -> dict[str, str]:
    """The PromQL of each field for servers named by `label`, narrowed by `selector`
    (label matchers such as `job="node"`, or "")."""
    matchers = f'{label}!=""' + (f",{selector.strip()}" if selector.strip() else "")
    window = f"{window_seconds}s"
    return {
        m.field: m.promql.replace("$L", label).replace("$M", matchers).replace("$W", window)
        for m in MAPPING
    }


def _value(field: str, raw: str) -> float | int | None:
    value = float(raw)
    if not math.isfinite(value):
        return None
    if field in _INTEGER_FIELDS:
        return int(value)
    if field in _PERCENT_FIELDS:  # rates of counters read microseconds apart can overshoot
        value = min(max(value, 0.0), 100.0)
    return round(max(value, 0.0), 4)


def to_records(
    results: Mapping[str, Iterable[Mapping[str, Any]]], label: str
) -> list[dict[str, Any]]:
    """Feed records from the `data.result` matrices of the field queries, one record per server
    and step; a field a server lacks at a step is left out (the feed decides if it may be)."""
    samples: dict[tuple[str, float], dict[str, Any]] = {}
    for field, series_list in results.items():
        for series in series_list:
            server = series.get("metric", {}).get(label)
            if not server:
                continue
            for stamp, raw in series.get("values", []):
                value = _value(field, raw)
                if value is not None:
                    samples.setdefault((server, float(stamp)), {})[field] = value
    records = []
    for (server, stamp), fields in sorted(samples.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        when = datetime.fromtimestamp(stamp, UTC).replace(tzinfo=None)
        records.append(
            {"timestamp": when.isoformat(), "server_name": server, "status": "healthy", **fields}
        )
    return records
