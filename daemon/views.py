"""Snapshot -> response bodies. Built once per prediction cycle, served as bytes by GETs."""

from __future__ import annotations

import gzip
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from argus.alerts import level_held
from argus.catalogue import ABSENTABLE_METRICS, METRIC_NAMES, TARGETS
from argus.daemon.schemas import (
    ActiveAlertBody,
    AlertBadge,
    AlertBrief,
    AlertsBody,
    BreachOdds,
    DisplayMetrics,
    FleetSummaryBody,
    ForecastBody,
    PredictionsBody,
    ServerPrediction,
    StaleServerBody,
)
from argus.daemon.utc import utc_iso
from argus.risk import PRESENT_ONLY, URGENT_STEPS, format_minutes
from argus.thresholds import LEVELS, Level, cores_for

if TYPE_CHECKING:
    from argus.daemon.cycle import Snapshot


def badge(level: Level, score: float) -> AlertBadge:
    band = LEVELS[level]
    return AlertBadge(
        level=level.value, score=score, color=band.color, emoji=band.emoji, label=band.label(level)
    )


def display_metrics(row: Mapping[str, Any]) -> DisplayMetrics:
    disk_io = row.get("disk_io_mb_s")
    return DisplayMetrics(
        cpu=f"{100.0 - row['cpu_idle_pct']:.1f}%",
        memory=f"{row['mem_used_pct']:.1f}%",
        disk_io="n/a" if disk_io is None else f"{disk_io:.1f} MB/s",
    )


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 2) for v in values]


def forecast_body(snapshot: Snapshot, server: str) -> ForecastBody:
    fc = snapshot.forecast
    row = fc.index(server)
    p10, p50, p90 = (fc.quantile_index(q) for q in (0.1, 0.5, 0.9))
    reported = snapshot.targets_of(server)
    paths = {t: fc.values[row, fc.targets.index(t)] for t in TARGETS if t in reported}
    stamps = np.datetime_as_string(fc.timestamps[row], unit="s")
    medians: dict[str, Any] = {
        t: _rounded(paths[t][:, p50]) if t in paths else None for t in TARGETS
    }
    return ForecastBody(
        timestamps=list(stamps),
        **medians,
        p10={t: _rounded(v[:, p10]) for t, v in paths.items()},
        p90={t: _rounded(v[:, p90]) for t, v in paths.items()},
    )


def _time_to_issue(minutes: int | None) -> str | None:
    if minutes == 0:
        return "now"  # a metric is already past its critical threshold
    return None if minutes is None else format_minutes(minutes)


def metrics_reported(reported: frozenset[str]) -> list[str]:
    """The record fields a server sends: the required ones and the optional ones it has sent."""
    required = [m for m in METRIC_NAMES if m not in ABSENTABLE_METRICS]
    return required + sorted(reported)


def server_prediction(snapshot: Snapshot, name: str) -> ServerPrediction:
    risk = snapshot.risks[name]
    level = snapshot.levels[name]  # the alert's level: the list and the summary show the same
    latest = snapshot.latest[name]
    fact = snapshot.facts[name]
    cores, source = cores_for(snapshot.profiles[name], fact.cpu_cores)
    return ServerPrediction(
        risk_score=risk.risk_score,
        profile=snapshot.profiles[name],
        alert=badge(level, risk.risk_score),
        level_held=level_held(level, risk.risk_score),
        display_metrics=display_metrics(latest),
        forecast=forecast_body(snapshot, name),
        model=snapshot.forecast.model_of(name),
        dominant_metric=risk.dominant_metric,
        time_to_issue=_time_to_issue(risk.time_to_issue_minutes),
        time_to_issue_minutes=risk.time_to_issue_minutes,
        breach_at=risk.breach_at,
        message=risk.message,
        breach_probability={
            m: BreachOdds(
                prob_30m=round(r.within(URGENT_STEPS), 4),
                prob_8h=round(r.within(len(r.probabilities)), 4),
            )
            for m, r in risk.metrics.items()
            if m not in PRESENT_ONLY
        },
        last_sample=fact.last_sample,
        metrics_reported=metrics_reported(fact.reported),
        cpu_cores=cores,
        cpu_cores_source=source,  # type: ignore[arg-type]
    )


def predictions_body(snapshot: Snapshot) -> PredictionsBody:
    summary = snapshot.summary
    alerts = sorted(snapshot.alerts.values(), key=lambda a: -a.risk_score)
    return PredictionsBody(
        predictions={name: server_prediction(snapshot, name) for name in snapshot.risks},
        stale_servers={
            name: StaleServerBody(
                profile=s.profile,
                last_sample=s.last_sample,
                minutes_without_data=s.minutes,
                message=s.message,
            )
            for name, s in sorted(snapshot.stale.items())
        },
        summary=FleetSummaryBody(
            total_servers=summary.total_servers,
            **{level.value: summary.counts[level] for level in Level},
            fleet_health=summary.fleet_health,
            stale=summary.stale,
            prob_30m=summary.prob_30m,
            prob_8h=summary.prob_8h,
        ),
        alerts=[
            AlertBrief(
                server_name=a.server_name,
                level=a.level.value,
                risk_score=a.risk_score,
                message=a.message,
            )
            for a in alerts
        ],
        timestamp=snapshot.data_time,
        computed_at=snapshot.computed_at,
    )


def alerts_body(snapshot: Snapshot) -> AlertsBody:
    alerts = sorted(snapshot.alerts.values(), key=lambda a: -a.risk_score)
    return AlertsBody(
        timestamp=snapshot.data_time,
        count=len(alerts),
        alerts=[
            ActiveAlertBody(
                server_name=a.server_name,
                level=a.level.value,
                risk_score=a.risk_score,
                profile=_profile(snapshot, a.server_name),
                message=a.message,
                time_to_issue=_time_to_issue(a.time_to_issue_minutes),
                time_to_issue_minutes=a.time_to_issue_minutes,
                dominant_metric=a.dominant_metric,
                level_held=level_held(a.level, a.risk_score),
                since=a.opened_at,
                level_since=a.level_since,
            )
            for a in alerts
        ],
    )


def _profile(snapshot: Snapshot, server: str) -> str:
    if server in snapshot.stale:
        return snapshot.stale[server].profile
    return snapshot.profiles.get(server, "")


@dataclass(frozen=True)
class PredictionParts:
    """`/predictions/current` in serialised pieces, so a filtered answer is a join of bytes
    built once per cycle, never a re-serialisation per request."""

    servers: Mapping[str, bytes]  # server -> its ServerPrediction JSON, in snapshot order
    stale: Mapping[str, bytes]  # stale server -> its StaleServerBody JSON
    levels: Mapping[str, str]  # server -> level value (stale servers have none)
    alerts: Sequence[tuple[str, bytes]]  # (server, AlertBrief JSON), highest risk first
    summary: bytes
    tail: bytes  # the timestamp fields and the closing brace

    def body(self, names: Collection[str] | None = None) -> bytes:
        """The PredictionsBody JSON of every server, or of `names` only (summary: the fleet)."""
        predictions = _join_members(self.servers, names)
        stale = _join_members(self.stale, names)
        alerts = b",".join(a for server, a in self.alerts if names is None or server in names)
        return (
            b'{"predictions":{' + predictions + b'},"stale_servers":{' + stale
            + b'},"summary":' + self.summary + b',"alerts":[' + alerts + b"]" + self.tail
        )  # fmt: skip


def _join_members(members: Mapping[str, bytes], names: Collection[str] | None) -> bytes:
    """The members of a JSON object (`"name":{...}`), all or those in `names`, in order."""
    keys = list(members) if names is None else [n for n in members if n in names]
    return b",".join(json.dumps(n).encode() + b":" + members[n] for n in keys)


def prediction_parts(snapshot: Snapshot) -> PredictionParts:
    body = predictions_body(snapshot)
    alerts = sorted(snapshot.alerts.values(), key=lambda a: -a.risk_score)
    return PredictionParts(
        servers={n: p.model_dump_json().encode() for n, p in body.predictions.items()},
        stale={n: b.model_dump_json().encode() for n, b in body.stale_servers.items()},
        levels={n: snapshot.levels[n].value for n in body.predictions},
        alerts=[
            (a.server_name, brief.model_dump_json().encode())
            for a, brief in zip(alerts, body.alerts, strict=True)
        ],
        summary=body.summary.model_dump_json().encode(),
        tail=f',"timestamp":"{utc_iso(body.timestamp)}",'
        f'"computed_at":"{utc_iso(body.computed_at)}"}}'.encode(),
    )


def build_bodies(snapshot: Snapshot, parts: PredictionParts) -> dict[str, bytes]:
    """Serialise the GET responses of a snapshot once (gzip too: a 1,000-server body is
    ~12 MB, and compressing it per request would cost more than serving it)."""
    predictions = parts.body()
    return {
        "predictions": predictions,
        "predictions.gz": gzip.compress(predictions, compresslevel=6, mtime=0),
        "alerts": alerts_body(snapshot).model_dump_json().encode(),
    }
