"""The Prometheus pull: node_exporter metrics read with /api/v1/query_range, stored as fed.

Every `prometheus_pull_seconds` the job asks Prometheus for each record field of every server
from where the last pull stopped up to now, validates each record with the feed's own schema
and stores the batch through the feed's ingest path (durable, duplicates skipped). The first pull
after start-up reaches back `window_steps` five-minute steps (or to the newest stored sample),
so forecasts start at once. A failed pull (Prometheus down, slow, answering an error) is logged
and counted (argus_prometheus_pull_errors); the next pull starts where the failed one would
have, so nothing Prometheus holds is skipped.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import requests
from pydantic import ValidationError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from argus.catalogue import STEP_MINUTES
from argus.daemon.ingest import ingest_batch
from argus.records import FeedBatch, MetricRecord
from argus.sources.prometheus import queries, to_records
from argus.storage.history import latest_time

if TYPE_CHECKING:
    from argus.daemon.services import Services

log = logging.getLogger("argus.prometheus")

CHUNK_STEPS = 288  # steps per range query (Prometheus refuses more than 11,000 per series)
INGEST_BATCH = 10_000  # records per stored batch
TIMEOUT_SECONDS = 30.0


class PrometheusError(Exception):
    """Prometheus could not be read; the pull is retried from the same point next time."""


def http_session() -> requests.Session:
    """A session that retries refused connections and 5xx answers with backoff."""
    retry = Retry(
        total=3,
        backoff_factor=0.5,
        status_forcelist=(429, 502, 503, 504),
        allowed_methods=None,  # query_range by POST is read-only
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


class PrometheusPull:
    """The pull job's state: where the next pull starts (epoch seconds, a multiple of the step)."""

    def __init__(self, services: Services, session: requests.Session | None = None) -> None:
        self.services = services
        self.session = session or http_session()
        self.next_start: float | None = None
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Make a pull in progress return after the range it is storing (daemon shutdown)."""
        self._stopping.set()

    @property
    def step(self) -> int:
        return self.services.settings.prometheus_step_seconds

    def _first_start(self, now: float) -> float:
        """Backfill the window, or resume after the newest stored sample."""
        settings = self.services.settings
        start = now - settings.window_steps * STEP_MINUTES * 60
        newest = latest_time(self.services.store)
        if newest is not None:  # (a sample dated in the future does not stop the pull)
            start = max(start, min(newest.replace(tzinfo=UTC).timestamp(), now - self.step))
        return math.ceil(start / self.step) * self.step

    def end_of(self, now: float) -> float:
        """The last step to ask for: a little behind now, so its scrapes are all in."""
        lag = min(self.step, 30)
        return math.floor((now - lag) / self.step) * self.step

    def __call__(self) -> None:
        """Scheduler entry point: never let a failure kill the job."""
        try:
            self.pull(time.time())
        except PrometheusError as exc:
            self.services.telemetry.pull_errors.inc()
            log.warning("Prometheus pull failed, the next pull catches up: %s", exc)
        except Exception:
            self.services.telemetry.pull_errors.inc()
            log.exception("Prometheus pull failed, the next pull catches up")

    def pull(self, now: float) -> int:
        """Pull every step from `next_start` up to now; return the records stored."""
        if self.next_start is None:
            self.next_start = self._first_start(now)
        end = self.end_of(now)
        stored = 0
        while self.next_start <= end and not self._stopping.is_set():
            chunk_end = min(end, self.next_start + (CHUNK_STEPS - 1) * self.step)
            stored += self._pull_range(self.next_start, chunk_end)
            self.next_start = chunk_end + self.step  # only once the range is stored
        self.services.telemetry.pulls.inc()
        return stored

    def _pull_range(self, start: float, end: float) -> int:
        settings = self.services.settings
        label = settings.prometheus_server_label
        results = {
            field: self._query_range(promql, start, end)
            for field, promql in queries(label, settings.prometheus_selector, self.step).items()
        }
        valid = self._validated(to_records(results, label))
        for first in range(0, len(valid), INGEST_BATCH):
            ingest_batch(self.services, FeedBatch(records=valid[first : first + INGEST_BATCH]))
        log.log(
            logging.INFO if valid else logging.DEBUG,
            "pulled %d records from Prometheus (%s to %s)",
            len(valid),
            _iso(start),
            _iso(end),
        )
        return len(valid)

    def _validated(self, records: list[dict[str, Any]]) -> list[Any]:
        """The records the feed accepts; the others are counted and logged, not stored."""
        valid, rejected = [], []
        for record in records:
            try:
                valid.append(MetricRecord.model_validate(record))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(map(str, first["loc"]))
                name, stamp = record["server_name"], record["timestamp"]
                rejected.append(f"{name} {stamp} {where}: {first['msg']}")
        if rejected:
            self.services.telemetry.pull_rejected.inc(len(rejected))
            log.warning(
                "%d pulled samples refused by the feed's validation, e.g. %s",
                len(rejected),
                rejected[0],
            )
        return valid

    def _query_range(self, promql: str, start: float, end: float) -> list[dict[str, Any]]:
        url = str(self.services.settings.prometheus_url).rstrip("/") + "/api/v1/query_range"
        form = {"query": promql, "start": start, "end": end, "step": self.step}
        try:
            resp = self.session.post(url, data=form, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            raise PrometheusError(f"{url}: {exc}") from exc
        try:
            body = resp.json()
        except ValueError as exc:
            raise PrometheusError(f"{url}: HTTP {resp.status_code}, not JSON") from exc
        if resp.status_code != 200 or body.get("status") != "success":
            raise PrometheusError(f"{url}: HTTP {resp.status_code}: {body.get('error', body)}")
        return list(body.get("data", {}).get("result", []))


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None).isoformat()
