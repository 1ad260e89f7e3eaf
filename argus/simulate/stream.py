"""Feed a running daemon over HTTP: backfill history, then one tick per interval."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from argus.simulate.fleet import STEPS_PER_DAY
from argus.simulate.scenario import apply_request, take_request
from argus.simulate.simulator import Simulator, floor_to_step

log = logging.getLogger("argus.simulate")

MAX_BATCH = 5000  # records per POST; a batch of 5000 is about 2 MB of JSON
STEP_SECONDS = 300.0


class FeedError(RuntimeError):
    """The daemon did not take a batch."""


class FeedRejected(FeedError):
    """The daemon refused a batch as invalid (422): a simulator bug, never retried."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors


@dataclass(frozen=True)
class FeedResult:
    """The daemon's answer to one batch."""

    status: str
    accepted: int
    duplicates: int


def _retry_after(response: requests.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:  # an HTTP date: not worth parsing for a demo
        return 1.0


class FeedClient:
    """POST batches to `{base_url}/feed/data`, waiting out rate limits."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 60.0,
        max_retries: int = 10,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = base_url.rstrip("/") + "/feed/data"
        self.timeout, self.max_retries, self.sleep = timeout, max_retries, sleep
        self.session = requests.Session()
        self.session.headers["X-API-Key"] = api_key

    def post(self, records: Sequence[dict[str, Any]]) -> FeedResult:
        """Send one batch; retry on 429/503 after the server's Retry-After."""
        for _ in range(self.max_retries + 1):
            resp = self.session.post(
                self.url, json={"records": list(records)}, timeout=self.timeout
            )
            if resp.status_code in (429, 503):
                wait = _retry_after(resp)
                log.info("feed: HTTP %d, retrying in %.0f s", resp.status_code, wait)
                self.sleep(wait)
                continue
            if resp.status_code == 422:
                body = resp.json()
                raise FeedRejected(
                    f"daemon refused the batch: {body.get('detail')}", body.get("errors", [])
                )
            if resp.status_code != 200:
                raise FeedError(f"POST {self.url}: HTTP {resp.status_code}: {resp.text[:200]}")
            body = resp.json()
            return FeedResult(
                str(body.get("status")),
                int(body.get("accepted", 0)),
                int(body.get("duplicates", 0)),
            )
        raise FeedError(f"POST {self.url}: still rate limited after {self.max_retries} retries")

    def close(self) -> None:
        self.session.close()


@dataclass
class StreamStats:
    """What has been sent so far."""

    batches: int = 0
    records: int = 0
    accepted: int = 0
    duplicates: int = 0

    def add(self, n_records: int, result: FeedResult) -> None:
        self.batches += 1
        self.records += n_records
        self.accepted += result.accepted
        self.duplicates += result.duplicates


def send_records(
    client: FeedClient,
    records: Sequence[dict[str, Any]],
    stats: StreamStats,
    batch_size: int = MAX_BATCH,
) -> None:
    """Send records in batches of at most `batch_size`."""
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}")
    for lo in range(0, len(records), batch_size):
        batch = records[lo : lo + batch_size]
        stats.add(len(batch), client.post(batch))


def backfill_start(days: float, now: datetime | None = None) -> datetime:
    """Return the start that makes a `days` backfill end at `now` rounded down to 5 minutes."""
    end = floor_to_step(now or datetime.now(UTC))
    return end - timedelta(minutes=5 * round(days * STEPS_PER_DAY))


def backfill_steps(days: float) -> int:
    """Samples per server in a `days` backfill, both ends included (start .. now)."""
    return round(days * STEPS_PER_DAY) + 1


def backfill(
    sim: Simulator, client: FeedClient, days: float, batch_size: int = MAX_BATCH
) -> StreamStats:
    """Render and send `days` of history, ending with the sample at the simulator's clock end."""
    stats = StreamStats()
    if days > 0:
        block = sim.advance(backfill_steps(days), natural=True)
        send_records(client, block.records(), stats, batch_size)
    return stats


def apply_control(sim: Simulator, home: Path | None, report: Callable[[str], None]) -> None:
    """Apply a pending scenario request, if any; report what happened."""
    if home is None:
        return
    try:
        request = take_request(home)
        if request is not None:
            report(apply_request(sim, request))
    except (ValueError, KeyError) as exc:
        report(f"scenario not applied: {exc}")


def stream(
    sim: Simulator,
    client: FeedClient,
    *,
    speed: float,
    stop: threading.Event,
    home: Path | None = None,
    max_ticks: int | None = None,
    report: Callable[[str], None] = log.info,
) -> StreamStats:
    """Send one 5-minute tick every 300 / `speed` seconds until `stop` is set."""
    if speed <= 0:
        raise ValueError("speed must be positive")
    stats, interval = StreamStats(), STEP_SECONDS / speed
    due = time.monotonic() + interval
    while max_ticks is None or stats.batches < max_ticks:
        if stop.wait(max(0.0, due - time.monotonic())):
            break
        due += interval
        apply_control(sim, home, report)
        send_records(client, sim.advance(1, natural=True).records(), stats)
    return stats
