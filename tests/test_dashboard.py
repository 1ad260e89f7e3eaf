"""The dashboard pages and session: login, cookie flags, CSRF, logout (in-process, real DB)."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

from argus.config import Settings
from argus.daemon.app import create_app
from argus.daemon.models import ServingModel
from argus.daemon.service import build_services
from argus.daemon.ui.session import COOKIE_NAME, CSRF_HEADER, session_secret
from argus.forecast.serving import ServingForecaster
from argus.simulate.demo import DemoOptions, banner
from tests.factories import TEST_KEY, make_batch


def _login(client: FlaskClient, key: str = TEST_KEY):
    return client.post("/ui/login", data={"api_key": key})


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, page
    return match.group(1)


def test_without_a_session_the_page_is_only_the_login_form(anon_client: FlaskClient) -> None:
    resp = anon_client.get("/")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'name="api_key"' in page and 'type="password"' in page
    assert "dashboard.js" not in page and "argus-config" not in page
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["Cache-Control"] == "no-store"
    assert anon_client.get("/predictions/current").status_code == 401


def test_login_sets_a_strict_httponly_cookie_and_never_echoes_the_key(
    anon_client: FlaskClient,
) -> None:
    resp = _login(anon_client)
    assert resp.status_code == 303 and resp.headers["Location"] == "/"
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith(COOKIE_NAME + "=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    assert TEST_KEY not in cookie
    page = anon_client.get("/").get_data(as_text=True)
    assert "dashboard.js" in page and TEST_KEY not in page
    assert "Log out" in page


def test_secure_cookie_under_https(anon_client: FlaskClient) -> None:
    resp = anon_client.post(
        "/ui/login", data={"api_key": TEST_KEY}, base_url="https://localhost"
    )
    assert "Secure" in resp.headers["Set-Cookie"]


def test_wrong_key_is_refused_and_sets_no_session(anon_client: FlaskClient) -> None:
    resp = _login(anon_client, "not-the-key-at-all")
    assert resp.status_code == 401
    assert "Set-Cookie" not in resp.headers
    assert "not this daemon" in resp.get_data(as_text=True)
    assert anon_client.get("/alerts/active").status_code == 401
    huge = _login(anon_client, "x" * 100_000)  # bounded, refused, not a 500
    assert huge.status_code in (401, 413)


def test_cross_site_login_is_refused(anon_client: FlaskClient) -> None:
    resp = anon_client.post(
        "/ui/login", data={"api_key": TEST_KEY}, headers={"Origin": "https://evil.example"}
    )
    assert resp.status_code == 403 and "Set-Cookie" not in resp.headers


def test_the_cookie_authenticates_api_reads(anon_client: FlaskClient, client: FlaskClient) -> None:
    client.post("/feed/data", json={"records": make_batch(3, 40)})
    _login(anon_client)
    resp = anon_client.get("/historical/server/ppweb001/metrics?time_range=1h")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["server_name"] == "ppweb001" and body["profile"] == "Web API"
    assert len(body["timestamps"]) == 13  # 60 minutes back from the newest bucket, both ends in
    assert body["targets"]["mem_pct"][-1] == 40.0 + 39 % 20
    assert anon_client.get("/historical/server/nope/metrics").status_code == 404
    assert anon_client.get("/historical/server/ppweb001/metrics?time_range=2y").status_code == 400


def test_state_changing_requests_need_the_csrf_token(anon_client: FlaskClient) -> None:
    _login(anon_client)
    token = _csrf(anon_client.get("/").get_data(as_text=True))
    refused = anon_client.post("/admin/cancel-training")
    assert refused.status_code == 403 and "CSRF" in refused.get_json()["detail"]
    wrong = anon_client.post("/admin/cancel-training", headers={CSRF_HEADER: "x" + token})
    assert wrong.status_code == 403
    ok = anon_client.post("/admin/cancel-training", headers={CSRF_HEADER: token})
    assert ok.status_code != 403 and ok.status_code != 401


def test_logout_clears_the_session(anon_client: FlaskClient) -> None:
    _login(anon_client)
    token = _csrf(anon_client.get("/").get_data(as_text=True))
    assert anon_client.post("/ui/logout").status_code == 403  # a cross-site form cannot log out
    resp = anon_client.post("/ui/logout", data={"csrf_token": token})
    assert resp.status_code == 303
    assert anon_client.get("/alerts/active").status_code == 401
    assert 'name="api_key"' in anon_client.get("/").get_data(as_text=True)


def test_the_session_secret_is_derived_not_the_key() -> None:
    secret = session_secret(TEST_KEY)
    assert len(secret) == 32 and TEST_KEY.encode() not in secret
    assert secret == session_secret(TEST_KEY) != session_secret(TEST_KEY + "x")


def test_static_files_are_served_without_a_session(anon_client: FlaskClient) -> None:
    with anon_client.get("/ui/static/dashboard.js") as js:
        assert js.status_code == 200 and b"X-CSRF-Token" in js.data
    with anon_client.get("/ui/static/vendor/uplot/uPlot.iife.min.js") as vendored:
        assert vendored.status_code == 200 and len(vendored.data) > 40_000
    with anon_client.get("/ui/static/vendor/uplot/LICENSE") as licence:
        assert licence.status_code == 200 and b"MIT License" in licence.data


def test_an_opaque_origin_cannot_log_in(anon_client: FlaskClient) -> None:
    resp = anon_client.post("/ui/login", data={"api_key": TEST_KEY}, headers={"Origin": "null"})
    assert resp.status_code == 403 and "Set-Cookie" not in resp.headers


def test_login_guesses_are_rate_limited(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")  # rate limits on, as the daemon runs
    settings.home.mkdir(parents=True)
    services = build_services(settings, TEST_KEY, ServingModel(ServingForecaster(None), None))
    try:
        client = create_app(services).test_client()
        answers = [_login(client, f"guess-{i:02d}-xxxxxxxx") for i in range(11)]
        assert [a.status_code for a in answers] == [401] * 10 + [429]
        assert "Too many attempts" in answers[10].get_data(as_text=True)
    finally:
        services.store.close()


def test_the_demo_prints_the_dashboard_address() -> None:
    opts = DemoOptions(home=Path("/tmp/demo"))
    text = banner("http://127.0.0.1:8000", "some-key", opts, Path("/tmp/demo/log"), False)
    assert any(
        line.startswith("Dashboard:") and line.split()[1] == "http://127.0.0.1:8000/"
        for line in text.splitlines()
    )
