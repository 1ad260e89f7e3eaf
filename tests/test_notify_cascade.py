"""A fleet cascade episode becomes one alert with a cascade_id, delivered from the outbox to an
unsigned webhook receiver, and is resolved once the episode is over."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from argus.config import Settings
from argus.daemon.app import create_app
from argus.daemon.cycle import run_cycle
from argus.daemon.models import ServingModel
from argus.daemon.notify_job import notify_job
from argus.daemon.service import build_services
from argus.daemon.services import Services
from argus.forecast.serving import ServingForecaster
from argus.notify.webhook import SIGNATURE_HEADER
from argus.simulate import Simulator
from argus.storage.notify import pending_counts
from tests.factories import TEST_KEY
from tests.test_cascade_api import DAY, feed, records
from tests.thirdparty import WebhookReceiver


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def notifying(tmp_path: Path, hook: WebhookReceiver) -> Iterator[Services]:
    settings = Settings(home=tmp_path / "home", rate_limits_enabled=False, webhook_url=hook.url)
    services = build_services(settings, TEST_KEY, ServingModel(ServingForecaster(None), None))
    yield services
    services.store.close()


def cascade_deliveries(hook: WebhookReceiver) -> list[dict]:
    bodies = [d.json() for d in hook.deliveries]
    return [b for b in bodies if "cascade_id" in b["alerts"][-1]["labels"]]


def test_cascade_episode_fires_and_resolves(notifying: Services, hook: WebhookReceiver) -> None:
    client = create_app(notifying).test_client()
    client.environ_base["HTTP_X_API_KEY"] = TEST_KEY
    sim = Simulator.create(servers=30, seed=1)
    feed(client, records(sim.advance(3 * DAY)))
    run_cycle(notifying)
    origin = next(
        n for n, p in zip(sim.fleet.names, sim.fleet.profiles, strict=True) if p == "Database"
    )
    sim.inject_cascade(origin, "iowait_storm", 60)
    feed(client, records(sim.advance(22)))
    run_cycle(notifying)
    assert notifying.cascade is not None and notifying.cascade.result.cascade_detected
    assert pending_counts(notifying.store)["webhook"] >= 1  # queued with the cycle
    notify_job(notifying)
    assert pending_counts(notifying.store) == {}
    [fired] = cascade_deliveries(hook)
    labels = fired["alerts"][-1]["labels"]
    assert fired["status"] == "firing" and labels["alertname"] == "ArgusCascadeDetected"
    assert labels["server"] == origin and labels["cascade_id"].startswith("cascade-")
    assert SIGNATURE_HEADER not in hook.deliveries[0].headers  # no webhook_secret: unsigned

    feed(client, records(sim.advance(120)))  # the storm ends and the fleet stays calm
    run_cycle(notifying)
    notify_job(notifying)
    resolved = cascade_deliveries(hook)[-1]
    assert resolved["status"] == "resolved"
    assert resolved["alerts"][-1]["labels"] == labels
