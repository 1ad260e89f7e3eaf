"""Argus alerts as Alertmanager alerts: labels, annotations and time span; the v2 push body.

Alertmanager identifies an alert by its label set. A server's alert keeps the labels of its last
transition (level and dominant metric then); when a transition changes them, the old label set is
resolved in the same notification, so Alertmanager never keeps a stale twin firing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from argus.alerts import ActiveAlert, AlertEvent, AlertEventKind
from argus.risk import BREACH_NAMES, format_minutes

FIRING = "firing"
RESOLVED = "resolved"
CASCADE_ALERTNAME = "ArgusCascadeDetected"

Labels = dict[str, str]


@dataclass(frozen=True)
class Notice:
    """One alert as a receiver sees it. `ends_at` is None while it fires."""

    labels: Labels
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None = None
    generator_url: str = ""
    status: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", FIRING if self.ends_at is None else RESOLVED)

    def resolved(self, at: datetime) -> Notice:
        """The same alert, resolved at `at` (never before it started)."""
        return Notice(
            self.labels, self.annotations, self.starts_at, max(at, self.starts_at),
            self.generator_url,
        )  # fmt: skip


def alertname(metric: str) -> str:
    """'mem_pct' -> 'ArgusMemoryExhaustionPredicted' (from the breach names of the risk engine)."""
    words = BREACH_NAMES.get(metric, "Risk").replace("/", "").split()
    return "Argus" + "".join(w[:1].upper() + w[1:] for w in words) + "Predicted"


def server_labels(server: str, level: str, metric: str, profile: str) -> Labels:
    return {
        "alertname": alertname(metric),
        "severity": level,
        "server": server,
        "metric": metric,
        "profile": profile,
    }


def explain_url(base_url: str, server: str) -> str:
    return f"{base_url.rstrip('/')}/explain/{server}"


def _annotations(
    message: str, score: float, time_to_issue: int | None, link: str
) -> dict[str, str]:
    return {
        "summary": message,
        "risk_score": f"{score:.1f}",
        "time_to_issue": format_minutes(time_to_issue) if time_to_issue is not None else "",
        "explanation": link,
    }


def active_notice(alert: ActiveAlert, labels: Labels, base_url: str, now: datetime) -> Notice:
    """A server's open alert with the labels it fired under and its current details."""
    link = explain_url(base_url, alert.server_name)
    notes = _annotations(alert.message, alert.risk_score, alert.time_to_issue_minutes, link)
    return Notice(labels, notes, min(alert.opened_at, now), None, link)


def transition_notices(
    event: AlertEvent,
    alert: ActiveAlert | None,
    fired: Labels | None,
    profile: str,
    base_url: str,
    now: datetime,
) -> list[Notice]:
    """The notices of one alert transition; the last one is the alert's state afterwards.

    `alert` is the server's open alert after the event (None once resolved); `fired` the labels
    its previous transition fired under (None: nothing fired). Times are data times clamped to
    the wall clock `now`, since Alertmanager rejects alerts that start in its future.
    """
    link = explain_url(base_url, event.server_name)
    at = min(event.at, now)
    if event.kind is AlertEventKind.RESOLVED or alert is None:
        labels = fired or server_labels(
            event.server_name, event.previous_level.value, event.dominant_metric, profile
        )
        notes = _annotations(event.message, event.risk_score, None, link)
        return [Notice(labels, notes, min(event.opened_at, now), None, link).resolved(at)]
    labels = server_labels(event.server_name, event.level.value, event.dominant_metric, profile)
    current = active_notice(alert, labels, base_url, now)
    if fired is None or fired == labels:
        return [current]
    stale = Notice(fired, current.annotations, current.starts_at, None, link)
    return [stale.resolved(at), current]


def cascade_id(episode_start: datetime) -> str:
    """A cascade episode's stable name: its start in data time."""
    return f"cascade-{episode_start:%Y%m%dT%H%M}"


def cascade_notice(
    episode_start: datetime,
    severity: str,
    metrics: Sequence[str],
    origin: str | None,
    origin_profile: str | None,
    affected: Sequence[str],
    base_url: str,
    now: datetime,
) -> Notice:
    """A fleet cascade episode as one firing alert (severity: the Argus level it maps to)."""
    level = "critical" if severity in ("high", "critical") else "warning"
    labels = {
        "alertname": CASCADE_ALERTNAME,
        "severity": level,
        "server": origin or "fleet",
        "metric": ",".join(metrics),
        "profile": origin_profile or "",
        "cascade_id": cascade_id(episode_start),
    }
    link = f"{base_url.rstrip('/')}/cascade/status"
    summary = f"Cascade across {len(affected)} servers on {', '.join(metrics)}" + (
        f", starting at {origin}" if origin else ""
    )
    notes = {
        "summary": summary,
        "cascade_severity": severity,
        "affected_servers": ", ".join(affected),
        "explanation": link,
    }
    return Notice(labels, notes, min(episode_start, now), None, link)


def rfc3339(at: datetime) -> str:
    """Argus keeps naive UTC datetimes; Alertmanager wants RFC 3339 with a zone."""
    return at.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def push_alerts(notices: Sequence[Notice], now: datetime, validity: timedelta) -> list[dict]:
    """The JSON array `POST /api/v2/alerts` takes. A firing alert is valid for `validity`: it must
    be re-sent before then, or Alertmanager resolves it (so a dead Argus does not page forever)."""
    return [
        {
            "labels": n.labels,
            "annotations": n.annotations,
            "startsAt": rfc3339(n.starts_at),
            "endsAt": rfc3339(n.ends_at if n.ends_at is not None else now + validity),
            "generatorURL": n.generator_url,
        }
        for n in notices
    ]


def dump_notices(notices: Sequence[Notice]) -> str:
    """Serialise notices for the outbox."""
    rows = []
    for n in notices:
        row = asdict(n)
        row.pop("status")
        row["starts_at"] = n.starts_at.isoformat()
        row["ends_at"] = n.ends_at.isoformat() if n.ends_at else None
        rows.append(row)
    return json.dumps(rows)


def load_notices(text: str) -> list[Notice]:
    """Read notices written by dump_notices."""
    return [
        Notice(
            row["labels"],
            row["annotations"],
            datetime.fromisoformat(row["starts_at"]),
            datetime.fromisoformat(row["ends_at"]) if row["ends_at"] else None,
            row["generator_url"],
        )
        for row in json.loads(text)
    ]


def label_key(labels: Mapping[str, str]) -> str:
    """The identity of an Argus alert across transitions: the server, or the cascade episode."""
    return labels.get("cascade_id") or labels["server"]
