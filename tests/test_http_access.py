"""Who may call the API: Bearer keys, a public /metrics, CORS, clients behind proxies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from argus.config import Settings
from argus.daemon.app import create_app
from argus.daemon.models import ServingModel
from argus.daemon.service import build_services
from argus.forecast.serving import ServingForecaster
from tests.factories import TEST_KEY

UNAUTHORIZED = {"detail": "Invalid or missing API key", "status": 401}
DASHBOARD = "https://dash.example.com"


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator:
    opened = []

    def build(**overrides: object) -> FlaskClient:
        settings = Settings(home=tmp_path / f"home{len(opened)}", **overrides)  # type: ignore[arg-type]
        services = build_services(settings, TEST_KEY, ServingModel(ServingForecaster(None), None))
        opened.append(services)
        return create_app(services).test_client()

    yield build
    for services in opened:
        services.store.close()


@pytest.mark.parametrize("path", ["/metrics", "/alerts/active", "/admin/models"])
def test_bearer_key_is_accepted_wherever_the_header_is(make_client, path) -> None:
    client = make_client()
    assert client.get(path, headers={"Authorization": f"Bearer {TEST_KEY}"}).status_code != 401
    assert client.get(path, headers={"Authorization": f"bearer {TEST_KEY}"}).status_code != 401
    for wrong in (f"Bearer {TEST_KEY}x", "Bearer ", f"Basic {TEST_KEY}", TEST_KEY):
        resp = client.get(path, headers={"Authorization": wrong})
        assert resp.status_code == 401 and resp.get_json() == UNAUTHORIZED


def test_metrics_need_a_key_unless_made_public(make_client) -> None:
    assert make_client().get("/metrics").status_code == 401
    public = make_client(metrics_public=True)
    resp = public.get("/metrics")
    assert resp.status_code == 200
    assert b"argus_prediction_cycles_total" in resp.data
    assert public.get("/alerts/active").status_code == 401  # only /metrics is opened


def preflight(client: FlaskClient, origin: str, path: str = "/alerts/active"):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "X-API-Key",
        },
    )


def test_cors_preflight_is_answered_without_a_key(make_client) -> None:
    client = make_client(cors_origins=f"{DASHBOARD}, https://other.example.com")
    resp = preflight(client, DASHBOARD)
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == DASHBOARD
    assert "GET" in resp.headers["Access-Control-Allow-Methods"]
    assert "x-api-key" in resp.headers["Access-Control-Allow-Headers"].lower()
    refused = preflight(client, "https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_cors_headers_are_on_errors_too(make_client) -> None:
    client = make_client(cors_origins=DASHBOARD)
    denied = client.get("/alerts/active", headers={"Origin": DASHBOARD})
    assert denied.status_code == 401
    assert denied.headers["Access-Control-Allow-Origin"] == DASHBOARD
    ok = client.get("/health", headers={"Origin": DASHBOARD})
    assert ok.headers["Access-Control-Allow-Origin"] == DASHBOARD
    assert "Retry-After" in ok.headers["Access-Control-Expose-Headers"]


def test_cors_is_off_by_default(make_client) -> None:
    resp = make_client().get("/health", headers={"Origin": DASHBOARD})
    assert "Access-Control-Allow-Origin" not in resp.headers


def limited_codes(client: FlaskClient, forwarded_for: str, n: int) -> list[int]:
    headers = {"X-API-Key": TEST_KEY, "X-Forwarded-For": forwarded_for}
    return [client.get("/admin/models", headers=headers).status_code for _ in range(n)]


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(make_client) -> None:
    client = make_client(rate_limits_enabled=True, trusted_proxies=1)
    assert limited_codes(client, "198.51.100.1", 11) == [200] * 10 + [429]
    assert limited_codes(client, "198.51.100.2", 1) == [200]


def test_without_trusted_proxies_forwarded_for_is_ignored(make_client) -> None:
    client = make_client(rate_limits_enabled=True)
    assert limited_codes(client, "198.51.100.1", 11) == [200] * 10 + [429]
    assert limited_codes(client, "198.51.100.2", 1) == [429]  # a client cannot forge its way out
