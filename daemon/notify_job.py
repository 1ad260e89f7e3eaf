"""Delivery of alert transitions to Alertmanager and a webhook, from the durable outbox.

The prediction cycle only queues rows (in its own transaction, see save_cycle); this job, on the
scheduler's thread pool, sends them in order per channel with retries and backoff, so a slow or
absent receiver never delays a cycle and a transition is never lost by a restart. Alertmanager
also gets every firing alert again each `alertmanager_resend_seconds`, as it expects.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import requests

from argus.alerts import AlertEvent
from argus.config import Settings
from argus.notify.alertmanager import (
    FIRING,
    Notice,
    active_notice,
    cascade_id,
    cascade_notice,
    dump_notices,
    label_key,
    load_notices,
    push_alerts,
    transition_notices,
)
from argus.notify.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, encode, envelope, sign
from argus.storage.notify import (
    OutboxRow,
    enqueue,
    firing_notices,
    mark_delivered,
    mark_failed,
    next_pending,
    pending_counts,
)
from argus.storage.store import Store

if TYPE_CHECKING:
    from argus.daemon.cascade_job import CascadeView
    from argus.daemon.cycle import Snapshot
    from argus.daemon.services import Services

log = logging.getLogger("argus.notify")

ALERTMANAGER = "alertmanager"
WEBHOOK = "webhook"
TIMEOUT_SECONDS = 10.0
MAX_RETRY_SECONDS = 300.0
ROWS_PER_TICK = 100  # a long backlog drains over several ticks, never one endless run


@dataclass
class NotifyState:
    """What receivers were told is firing (alert key -> notice), and where links point.

    `fired` is replaced, never mutated (the cycle thread writes it, the delivery job reads it).
    """

    base_url: str = "http://127.0.0.1:8000"
    fired: Mapping[str, Notice] = field(default_factory=dict)
    last_resend: float = 0.0
    session: requests.Session = field(default_factory=requests.Session)


def channels(settings: Settings) -> tuple[str, ...]:
    """The configured delivery channels."""
    named = ((ALERTMANAGER, settings.alertmanager_url), (WEBHOOK, settings.webhook_url))
    return tuple(name for name, url in named if url)


def load_state(store: Store, settings: Settings) -> NotifyState:
    """Rebuild what is firing from the outbox (after a restart)."""
    fired = {key: load_notices(text)[-1] for key, text in firing_notices(store).items()}
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    return NotifyState(base_url=base, fired=fired)


def _rows(settings: Settings, batches: Sequence[list[Notice]], at: datetime) -> list[OutboxRow]:
    return [
        OutboxRow(channel, label_key(n[-1].labels), n[-1].status, at, dump_notices(n))
        for n in batches
        for channel in channels(settings)
    ]


def server_rows(
    services: Services, snapshot: Snapshot, events: Sequence[AlertEvent]
) -> list[OutboxRow]:
    """The outbox rows of one cycle's alert transitions (saved with the cycle)."""
    if not channels(services.settings):
        return []
    state, now = services.notify, services.clock()
    batches = []
    for event in events:
        fired = state.fired.get(event.server_name)
        batches.append(
            transition_notices(
                event,
                snapshot.alerts.get(event.server_name),
                fired.labels if fired else None,
                snapshot.profiles.get(event.server_name, ""),
                state.base_url,
                now,
            )
        )
    return _rows(services.settings, batches, now)


def remember(state: NotifyState, rows: Sequence[OutboxRow]) -> None:
    """After the rows are stored: note what each transition left firing."""
    if not rows:
        return
    fired = dict(state.fired)
    for row in rows:
        notice = load_notices(row.notices)[-1]
        if notice.status == FIRING:
            fired[row.alert_key] = notice
        else:
            fired.pop(row.alert_key, None)
    state.fired = fired


def notify_cascade(services: Services, view: CascadeView) -> None:
    """Fire an alert when a cascade episode starts; resolve it once the episode is over."""
    if not channels(services.settings):
        return
    try:
        _queue_cascade(services, view)
    except Exception:
        log.exception("queueing the cascade notification failed; the next detection retries")


def _queue_cascade(services: Services, view: CascadeView) -> None:
    state, now, result = services.notify, services.clock(), view.result
    wanted = {cascade_id(e.start) for e in view.episodes}  # the open episodes
    batches = [
        [notice.resolved(min(result.timestamp, now))]
        for key, notice in state.fired.items()
        if "cascade_id" in notice.labels and key not in wanted
    ]
    for named in view.named:
        if cascade_id(named.episode.start) in state.fired:
            continue
        metrics = sorted({c.metric for c in named.cascades})
        batches.append([
            cascade_notice(named.episode.start, named.severity, metrics, named.origin,
                           named.origin_profile, named.affected_servers, state.base_url, now)
        ])  # fmt: skip
    rows = _rows(services.settings, batches, now)
    enqueue(services.store, rows)
    remember(state, rows)


def _send(services: Services, channel: str, row_id: int, notices: list[Notice]) -> None:
    """One HTTP delivery; raises requests.RequestException on failure."""
    settings, state = services.settings, services.notify
    if channel == ALERTMANAGER:
        validity = timedelta(seconds=4 * settings.alertmanager_resend_seconds)
        body = encode(push_alerts(notices, services.clock(), validity))
        url = f"{(settings.alertmanager_url or '').rstrip('/')}/api/v2/alerts"
        headers = {"Content-Type": "application/json"}
    else:
        body = encode(envelope(notices, state.base_url))
        url = settings.webhook_url or ""
        headers = {"Content-Type": "application/json", DELIVERY_HEADER: str(row_id)}
        if settings.webhook_secret:
            headers[SIGNATURE_HEADER] = sign(body, settings.webhook_secret)
    resp = state.session.post(url, data=body, headers=headers, timeout=TIMEOUT_SECONDS)
    resp.raise_for_status()


def _retryable(exc: requests.RequestException) -> bool:
    """Network errors, 5xx, 408 and 429 are worth retrying; another 4xx would fail forever."""
    resp = exc.response if isinstance(exc, requests.HTTPError) else None
    return resp is None or resp.status_code >= 500 or resp.status_code in (408, 429)


def drain(services: Services, channel: str) -> bool:
    """Send due rows of `channel` in order; False when one failed (it waits for its retry)."""
    store, telemetry = services.store, services.telemetry
    for _ in range(ROWS_PER_TICK):
        row = next_pending(store, channel)
        if row is None:
            return True
        now = services.clock()
        if row.next_attempt_at > now:
            return False
        try:
            _send(services, channel, row.id, load_notices(row.notices))
        except requests.RequestException as exc:
            telemetry.notify_failures.labels(channel).inc()
            if not _retryable(exc):
                log.error("%s rejected notification %d for good: %s", channel, row.id, exc)
                mark_delivered(store, row.id, now, str(exc))
                continue
            delay = min(services.settings.notify_retry_seconds * 2**row.attempts,
                        MAX_RETRY_SECONDS)  # fmt: skip
            log.warning("%s delivery %d failed (retry in %.0fs): %s", channel, row.id, delay, exc)
            mark_failed(store, row.id, now + timedelta(seconds=delay), str(exc))
            return False
        mark_delivered(store, row.id, now)
        telemetry.notify_sent.labels(channel).inc()
    return False


def resend_firing(services: Services) -> None:
    """Re-send every firing alert to Alertmanager, with the details of the latest cycle."""
    state, snapshot, now = services.notify, services.snapshot, services.clock()
    alerts = snapshot.alerts if snapshot else {}
    notices = [
        active_notice(alerts[key], notice.labels, state.base_url, now) if key in alerts else notice
        for key, notice in state.fired.items()
    ]
    if not notices:
        return
    try:
        _send(services, ALERTMANAGER, 0, notices)
    except requests.RequestException as exc:
        services.telemetry.notify_failures.labels(ALERTMANAGER).inc()
        log.warning("re-sending %d firing alerts failed: %s", len(notices), exc)
        return
    services.telemetry.notify_sent.labels(ALERTMANAGER).inc()


def notify_job(services: Services) -> None:
    """Scheduler entry point: deliver the outbox, re-send what fires; never raises."""
    try:
        for channel in channels(services.settings):
            drained = drain(services, channel)
            state = services.notify
            resend_due = time.monotonic() - state.last_resend >= (
                services.settings.alertmanager_resend_seconds
            )
            if channel == ALERTMANAGER and drained and resend_due:
                state.last_resend = time.monotonic()
                resend_firing(services)
        counts = pending_counts(services.store)
        for channel in channels(services.settings):
            services.telemetry.notify_pending.labels(channel).set(counts.get(channel, 0))
    except Exception:
        log.exception("notification delivery failed; the outbox keeps what was not sent")
