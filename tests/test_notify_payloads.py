"""The pure payload builders: Alertmanager alerts, the webhook envelope and its signature."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from argus.alerts import ActiveAlert, AlertEvent, AlertEventKind
from argus.config import load_settings
from argus.errors import ConfigError
from argus.notify.alertmanager import (
    active_notice,
    alertname,
    cascade_notice,
    dump_notices,
    load_notices,
    push_alerts,
    server_labels,
    transition_notices,
)
from argus.notify.webhook import envelope, fingerprint, sign, signature_valid
from argus.thresholds import Level

T0 = datetime(2025, 1, 15, 10, 0)
NOW = datetime(2025, 1, 15, 10, 30)
BASE = "https://argus.example.com"


def alert(level: Level = Level.CRITICAL, metric: str = "mem_pct") -> ActiveAlert:
    return ActiveAlert("ppdb001", level, 91.5, "Memory exhaustion predicted in 45 minutes",
                       metric, 45, T0, T0, 1)  # fmt: skip


def event(kind: AlertEventKind, level: Level, previous: Level, at: datetime = T0) -> AlertEvent:
    return AlertEvent("ppdb001", kind, at, level, previous, 91.5, "mem_pct",
                      "Memory exhaustion predicted in 45 minutes", T0, None)  # fmt: skip


def test_alertnames_follow_the_breach_names() -> None:
    assert alertname("mem_pct") == "ArgusMemoryExhaustionPredicted"
    assert alertname("disk_pct") == "ArgusDiskFullPredicted"
    assert alertname("iowait_pct") == "ArgusIOWaitSaturationPredicted"
    assert alertname("cpu_pct") == "ArgusCPUSaturationPredicted"


def test_a_new_alert_fires_with_labels_annotations_and_start() -> None:
    [notice] = transition_notices(
        event(AlertEventKind.NEW, Level.CRITICAL, Level.HEALTHY), alert(), None, "Database",
        BASE, NOW,
    )  # fmt: skip
    assert notice.status == "firing" and notice.starts_at == T0 and notice.ends_at is None
    assert notice.labels == server_labels("ppdb001", "critical", "mem_pct", "Database")
    assert notice.annotations == {
        "summary": "Memory exhaustion predicted in 45 minutes",
        "risk_score": "91.5",
        "time_to_issue": "45 minutes",
        "explanation": f"{BASE}/explain/ppdb001",
    }
    [pushed] = push_alerts([notice], NOW, timedelta(minutes=4))
    assert pushed["startsAt"] == "2025-01-15T10:00:00.000Z"
    assert pushed["endsAt"] == "2025-01-15T10:34:00.000Z"  # valid until re-sent


def test_escalation_resolves_the_old_label_set_in_the_same_notification() -> None:
    warning = server_labels("ppdb001", "warning", "mem_pct", "Database")
    at = T0 + timedelta(minutes=10)
    old, new = transition_notices(
        event(AlertEventKind.ESCALATED, Level.CRITICAL, Level.WARNING, at), alert(), warning,
        "Database", BASE, NOW,
    )  # fmt: skip
    assert old.labels == warning and old.status == "resolved" and old.ends_at == at
    assert new.labels["severity"] == "critical" and new.status == "firing"


def test_resolution_uses_the_labels_that_fired() -> None:
    fired = server_labels("ppdb001", "warning", "cpu_pct", "Database")
    at = T0 + timedelta(minutes=20)
    [notice] = transition_notices(
        event(AlertEventKind.RESOLVED, Level.HEALTHY, Level.WARNING, at), None, fired,
        "Database", BASE, NOW,
    )  # fmt: skip
    assert notice.labels == fired and notice.status == "resolved"
    assert push_alerts([notice], NOW, timedelta(minutes=4))[0]["endsAt"] == (
        "2025-01-15T10:20:00.000Z"
    )


def test_times_ahead_of_the_wall_clock_are_clamped() -> None:
    future = NOW + timedelta(hours=1)
    notice = active_notice(
        ActiveAlert("s", Level.WARNING, 65, "m", "mem_pct", None, future, future, 1),
        server_labels("s", "warning", "mem_pct", "Generic"), BASE, NOW,
    )  # fmt: skip
    assert notice.starts_at == NOW and notice.annotations["time_to_issue"] == ""


def test_cascade_alert_carries_its_id() -> None:
    notice = cascade_notice(T0, "high", ["cpu_pct"], "ppdb001", "Database",
                            ["ppdb001", "ppapi001", "ppweb001"], BASE, NOW)  # fmt: skip
    assert notice.labels["alertname"] == "ArgusCascadeDetected"
    assert notice.labels["cascade_id"] == "cascade-20250115T1000"
    assert notice.labels["severity"] == "critical"
    assert "3 servers" in notice.annotations["summary"]


def test_notices_round_trip_through_the_outbox_text() -> None:
    labels = server_labels("ppdb001", "critical", "mem_pct", "Database")
    firing = active_notice(alert(), labels, BASE, NOW)
    notices = [firing.resolved(NOW), firing]
    assert load_notices(dump_notices(notices)) == notices


def test_webhook_envelope_and_signature() -> None:
    labels = server_labels("ppdb001", "critical", "mem_pct", "Database")
    notice = active_notice(alert(), labels, BASE, NOW)
    body = envelope([notice], BASE)
    assert body["version"] == "4" and body["status"] == "firing"
    assert body["groupLabels"] == {"server": "ppdb001"} and body["externalURL"] == BASE
    assert body["commonLabels"] == labels
    [sent] = body["alerts"]
    assert sent["endsAt"] == "0001-01-01T00:00:00Z" and sent["fingerprint"] == fingerprint(labels)
    # RFC 4231 test case 2: HMAC-SHA256 with key "Jefe"
    assert sign(b"what do ya want for nothing?", "Jefe") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    raw = b'{"version":"4"}'
    assert signature_valid(raw, "s3cret", sign(raw, "s3cret"))
    assert not signature_valid(raw, "s3cret", sign(raw + b" ", "s3cret"))
    assert not signature_valid(raw, "other", sign(raw, "s3cret"))
    assert not signature_valid(raw, "s3cret", None)


def test_notification_urls_must_be_http_urls(tmp_path) -> None:
    for name in ("alertmanager_url", "webhook_url", "public_url"):
        with pytest.raises(ConfigError, match=name):
            load_settings({"home": tmp_path, name: "localhost:9093"}, environ={})
    env = {"ARGUS_ALERTMANAGER_URL": "http://127.0.0.1:9093", "ARGUS_CORS_ORIGINS": "https://a"}
    settings = load_settings({"home": tmp_path}, environ=env)
    assert settings.alertmanager_url == "http://127.0.0.1:9093"
    assert settings.cors_origins == "https://a" and settings.trusted_proxies == 0
