"""Rate limits from the REST guide: 429 JSON with Retry-After."""

from __future__ import annotations

from pathlib import Path

from argus.config import Settings
from argus.daemon.app import create_app
from argus.daemon.models import ServingModel
from argus.daemon.service import build_services
from argus.forecast.serving import ServingForecaster
from tests.factories import TEST_KEY, make_record


def test_feed_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, rate_limits_enabled=True)
    services = build_services(settings, TEST_KEY, ServingModel(ServingForecaster(None), None))
    try:
        client = create_app(services).test_client()
        headers = {"X-API-Key": TEST_KEY}
        codes = [
            client.post(
                "/feed/data",
                json={"records": [make_record(ts=f"2025-01-15T{i // 12:02d}:{i % 12 * 5:02d}:00")]},
                headers=headers,
            ).status_code
            for i in range(60)
        ]
        assert codes == [200] * 60
        resp = client.post("/feed/data", json={"records": [make_record()]}, headers=headers)
        assert resp.status_code == 429
        assert int(resp.headers["Retry-After"]) > 0
        body = resp.get_json()
        assert body["status"] == 429 and "rate limit" in body["detail"]
        assert client.get("/health").status_code == 200  # public routes are not limited
    finally:
        services.store.close()
