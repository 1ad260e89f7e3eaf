"""Alerts reach Alertmanager (Debian's, on loopback) and a signed webhook from a real daemon,
including while the receivers are down and across a daemon restart."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from argus.notify.webhook import SIGNATURE_HEADER, fingerprint, signature_valid
from tests.factories import BASE_TIME, LiveDaemon, make_record
from tests.thirdparty import Alertmanager, WebhookReceiver, wait_for

SECRET = "webhook-secret-for-tests"  # noqa: S105 - a test value
HOT = "ppweb001"


def feed(daemon: LiveDaemon, first: int, last: int, hot: bool = False) -> None:
    """Steps first..last-1 of two servers; HOT at 99 % memory when `hot`."""
    records = [
        make_record(name, BASE_TIME + timedelta(minutes=5 * i),
                    mem_used_pct=99.0 if hot and name == HOT else 50.0)
        for i in range(first, last)
        for name in ("ppweb000", HOT)
    ]  # fmt: skip
    assert daemon.post("/feed/data", json={"records": records}).status_code == 200


def active_alert(daemon: LiveDaemon) -> bool:
    resp = daemon.get("/alerts/active")
    return resp.status_code == 200 and any(a["server_name"] == HOT for a in resp.json()["alerts"])


def calm_until_resolved(daemon: LiveDaemon, first: int) -> None:
    """Feed calm steps, one per cycle, until Argus resolves the alert."""
    for step in range(first, first + 20):
        feed(daemon, step, step + 1)
        time.sleep(0.6)  # a cycle runs for each new 5-minute bucket
        if not active_alert(daemon):
            return
    raise AssertionError("Argus never resolved the alert")


def notifying_daemon(home: Path, am: Alertmanager, hook: WebhookReceiver) -> LiveDaemon:
    env = {
        "ARGUS_CYCLE_CHECK_SECONDS": "0.3",
        "ARGUS_ALERT_MIN_DWELL": "1",
        "ARGUS_ALERTMANAGER_URL": am.url,
        "ARGUS_WEBHOOK_URL": hook.url,
        "ARGUS_WEBHOOK_SECRET": SECRET,
        "ARGUS_NOTIFY_RETRY_SECONDS": "0.3",
        "ARGUS_PUBLIC_URL": "https://argus.example.com",
    }
    return LiveDaemon(home=home, extra_env=env)


def argus_alerts(am: Alertmanager) -> list[dict]:
    return [a for a in am.alerts() if a["labels"].get("server") == HOT]


def test_alert_fires_and_resolves_in_alertmanager_and_webhook(tmp_path: Path) -> None:
    am = Alertmanager(tmp_path / "am").start()
    try:
        with WebhookReceiver() as hook:
            daemon = notifying_daemon(tmp_path / "home", am, hook).start()
            try:
                feed(daemon, 0, 60)
                feed(daemon, 60, 61, hot=True)
                fired = wait_for(lambda: argus_alerts(am))
                labels = fired[0]["labels"]
                assert labels == {
                    "alertname": "ArgusMemoryExhaustionPredicted",
                    "severity": "critical",
                    "server": HOT,
                    "metric": "mem_pct",
                    "profile": "Web API",
                }
                notes = fired[0]["annotations"]
                assert "Memory" in notes["summary"] and float(notes["risk_score"]) >= 80
                assert notes["explanation"] == f"https://argus.example.com/explain/{HOT}"
                assert fired[0]["fingerprint"] == fingerprint(labels)  # same identity as AM's
                calm_until_resolved(daemon, first=61)
                wait_for(lambda: not argus_alerts(am))  # resolved: no longer active in AM
                wait_for(lambda: hook.deliveries[-1].json()["status"] == "resolved")
                statuses = [d.json()["status"] for d in hook.deliveries]
                assert statuses[0] == "firing" and statuses[-1] == "resolved"
                for sent in hook.deliveries:
                    assert signature_valid(sent.body, SECRET, sent.headers[SIGNATURE_HEADER])
                resolved = hook.deliveries[-1].json()
                assert resolved["version"] == "4" and resolved["receiver"] == "argus-webhook"
                assert resolved["alerts"][-1]["labels"]["server"] == HOT
                assert resolved["alerts"][-1]["endsAt"] > resolved["alerts"][-1]["startsAt"]
            finally:
                daemon.stop()
    finally:
        am.stop()


def failures(daemon: LiveDaemon, channel: str) -> float:
    for line in daemon.get("/metrics").text.splitlines():
        if line.startswith(f'argus_notification_failures_total{{channel="{channel}"}}'):
            return float(line.split()[-1])
    return 0.0


def test_receivers_down_and_a_restart_lose_no_alert(tmp_path: Path) -> None:
    am = Alertmanager(tmp_path / "am")  # not started yet: Alertmanager is down
    with WebhookReceiver() as hook:
        hook.status = 503
        daemon = notifying_daemon(tmp_path / "home", am, hook).start()
        try:
            feed(daemon, 0, 60)
            feed(daemon, 60, 61, hot=True)
            wait_for(lambda: active_alert(daemon))
            wait_for(lambda: failures(daemon, "alertmanager") >= 2)
            wait_for(lambda: failures(daemon, "webhook") >= 2)
        finally:
            assert daemon.stop() == 0
        assert hook.deliveries == []
        am.start()
        hook.status = 200
        daemon.start()  # same data dir: the outbox still holds the transition
        try:
            fired = wait_for(lambda: argus_alerts(am))
            assert fired[0]["labels"]["alertname"] == "ArgusMemoryExhaustionPredicted"
            delivery = wait_for(lambda: hook.deliveries)[0]
            assert signature_valid(delivery.body, SECRET, delivery.headers[SIGNATURE_HEADER])
            body = delivery.json()
            assert body["status"] == "firing" and body["alerts"][0]["labels"]["server"] == HOT
            assert delivery.headers["X-Argus-Delivery"]
        finally:
            daemon.stop()
            am.stop()
