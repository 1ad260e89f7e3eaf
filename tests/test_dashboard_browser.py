"""The dashboard in a real headless browser (Debian's chromium driven by Playwright).

One `argus serve` subprocess per module, fed by the simulator over HTTP; the page is driven as a
person would: log in, read the fleet, open a server, follow an alert, watch a scenario arrive
without reloading. Screenshots of every view at 1280 px and 390 px go to a pytest tmp dir
(printed with -s); ARGUS_SCREENSHOTS=<dir> writes them there instead.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from playwright import sync_api

from argus.simulate import Simulator
from argus.simulate.demo import DEMO_FUTURE_MINUTES
from argus.simulate.scenario import ScenarioRequest, control_path, write_request
from argus.simulate.stream import FeedClient, backfill, backfill_start, stream
from tests.factories import TEST_KEY, LiveDaemon, make_record

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip("Debian's chromium is missing: apt-get install chromium", allow_module_level=True)

SERVERS = 8
SCENARIO_SERVER = "ppapi001"
STALE_SERVER = "ppgen099"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@dataclass
class Fleet:
    daemon: LiveDaemon
    sim: Simulator
    client: FeedClient
    names: list[str]
    shots: Path


def _wait_for(predicate, timeout: float, what: str):  # noqa: ANN001, ANN202 - test helper
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    home = tmp_path_factory.mktemp("dash") / "home"
    # The simulated stream runs ahead of the wall clock, as the demo's does.
    env = {"ARGUS_CYCLE_CHECK_SECONDS": "0.5", "ARGUS_MAX_FUTURE_MINUTES": DEMO_FUTURE_MINUTES}
    daemon = LiveDaemon(home=home, extra_env=env).start()
    try:
        start = backfill_start(1.0)
        # a server that stopped reporting two hours before the others: the page marks it stale
        last = start + timedelta(days=1)  # the backfill's newest sample
        quiet = [make_record(STALE_SERVER, last - timedelta(minutes=5 * i)) for i in range(24, 48)]
        assert daemon.post("/feed/data", json={"records": quiet}).status_code == 200
        sim = Simulator.create(servers=SERVERS, seed=4, start=start)
        client = FeedClient(daemon.url, TEST_KEY)
        backfill(sim, client, days=1.0)
        _wait_for(lambda: daemon.get("/predictions/current").status_code == 200, 60, "a cycle")
        body = daemon.get("/predictions/current").json()
        names = sorted([*body["predictions"], *body.get("stale_servers", {})])
        shots = Path(os.environ.get("ARGUS_SCREENSHOTS") or tmp_path_factory.mktemp("screens"))
        shots.mkdir(parents=True, exist_ok=True)
        print(f"\nscreenshots: {shots}")
        yield Fleet(daemon, sim, client, names, shots)
        client.close()
    finally:
        assert daemon.stop() == 0


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def _page(browser, width: str = "desktop"):  # noqa: ANN001, ANN202 - playwright objects
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h})
    return context, context.new_page()


def _login(page, fleet: Fleet) -> None:  # noqa: ANN001 - playwright page
    page.goto(fleet.daemon.url + "/")
    page.fill("#api_key", TEST_KEY)
    page.keyboard.press("Enter")  # the form is usable from the keyboard
    page.wait_for_selector("#fleet-table tbody tr")


def _shoot(page, fleet: Fleet, name: str) -> None:  # noqa: ANN001 - playwright page
    page.screenshot(path=str(fleet.shots / f"{name}.png"))


def test_without_the_cookie_no_data_is_served(fleet: Fleet, browser) -> None:  # noqa: ANN001
    context, page = _page(browser)
    try:
        page.goto(fleet.daemon.url + "/")
        assert page.locator("#api_key").is_visible()
        assert page.locator("#fleet-table").count() == 0
        content = page.content()
        assert not any(name in content for name in fleet.names)
        status = page.evaluate("fetch('/predictions/current').then(r => r.status)")
        assert status == 401
        page.fill("#api_key", "wrong-key-wrong-key")
        page.click("button[type=submit]")
        assert "not this daemon" in page.inner_text("body")
        assert context.cookies() == []
    finally:
        context.close()


def test_login_shows_every_fed_server_and_the_key_stays_out_of_the_page(
    fleet: Fleet, browser  # noqa: ANN001
) -> None:
    context, page = _page(browser)
    try:
        _login(page, fleet)
        shown = page.eval_on_selector_all(
            "#fleet-table tbody tr", "rows => rows.map(r => r.dataset.server)"
        )
        assert sorted(shown) == fleet.names and STALE_SERVER in shown
        stale = page.locator("#fleet-table tr.stale")
        assert stale.count() == 1 and stale.get_attribute("data-server") == STALE_SERVER
        assert "stale" in stale.inner_text()
        assert page.locator("#fleet-table .badge").first.inner_text()[:1] in "🔴🟠🟡🟢"
        cookie = next(c for c in context.cookies() if c["name"] == "argus_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert TEST_KEY not in page.content() and TEST_KEY not in page.url
        storage = page.evaluate("JSON.stringify([localStorage, sessionStorage, document.cookie])")
        assert TEST_KEY not in storage and "argus_session" not in storage
        page.select_option("#f-profile", "Database")
        profiles = page.eval_on_selector_all(
            "#fleet-table tbody td[data-label=Profile]", "cells => cells.map(c => c.textContent)"
        )
        assert profiles and set(profiles) == {"Database"}
        _shoot(page, fleet, "fleet-desktop")
        page.click("form.logout button")
        page.wait_for_selector("#api_key")
        assert page.evaluate("fetch('/alerts/active').then(r => r.status)") == 401
    finally:
        context.close()


def test_a_server_page_draws_each_forecast_with_its_band(fleet: Fleet, browser) -> None:  # noqa: ANN001
    context, page = _page(browser)
    try:
        _login(page, fleet)
        server = fleet.names[0]
        page.click(f"#fleet-table a[href='#/server/{server}']")
        page.wait_for_selector(".chart[data-target=mem_pct] canvas")
        assert page.inner_text("main h1") == server
        charts = page.locator(".chart canvas")
        assert charts.count() == 6  # one per forecast target
        assert page.get_attribute(".chart[data-target=mem_pct]", "data-bands") == "P90-P10"
        legend = page.inner_text(".chart[data-target=mem_pct] + .chart-note")
        assert "P10" in legend and "P90" in legend and "critical 98" in legend
        # the band is painted: an area of the band's translucent purple (lines are opaque or thin)
        band_pixels = page.evaluate(
            """() => { const c = document.querySelector('.chart[data-target=mem_pct] canvas');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0;
                for (let i = 0; i < d.length; i += 4)
                  if (Math.abs(d[i] - 123) < 6 && Math.abs(d[i+1] - 63) < 6
                      && Math.abs(d[i+2] - 191) < 6 && d[i+3] > 35 && d[i+3] < 60) n++;
                return n; }"""
        )
        assert band_pixels > 100, band_pixels
        page.wait_for_selector("#whatif tbody tr")
        _shoot(page, fleet, "server-desktop")
    finally:
        context.close()


def test_a_scenario_shows_up_live_and_its_alert_leads_to_the_server(
    fleet: Fleet, browser  # noqa: ANN001
) -> None:
    context, page = _page(browser)
    try:
        _login(page, fleet)
        page.evaluate("window.__sameDocument = true")
        home = fleet.daemon.home
        write_request(home, ScenarioRequest("critical", SCENARIO_SERVER))
        stream(fleet.sim, fleet.client, speed=1e5, stop=threading.Event(), home=home, max_ticks=8)
        assert not control_path(home).exists()
        row = f"#fleet-table tr[data-server={SCENARIO_SERVER}]"
        escalated = f"{row} .badge[data-level=critical], {row} .badge[data-level=warning]"
        page.locator(escalated).wait_for(timeout=30_000)
        assert page.evaluate("window.__sameDocument") is True  # updated without a reload
        page.click("nav a[data-tab=alerts]")
        link = page.locator(f"#active-alerts a[href='#/server/{SCENARIO_SERVER}']")
        link.wait_for()
        _shoot(page, fleet, "alerts-desktop")
        link.focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("#current-alert.alert")
        assert page.inner_text("main h1") == SCENARIO_SERVER
        assert "Memory" in page.inner_text("#current-alert")
    finally:
        context.close()


def test_admin_buttons_and_export_links_work_from_the_page(fleet: Fleet, browser) -> None:  # noqa: ANN001
    context, page = _page(browser)
    try:
        _login(page, fleet)
        page.evaluate("location.hash = '#/model'")
        page.wait_for_selector("#training-progress")
        page.click("#reload")  # POST /admin/reload-model with the page's CSRF header
        msg = page.locator(".action-msg")
        # past the session and CSRF checks, the route itself answers: nothing to reload yet
        msg.filter(has_text="no current model to reload").wait_for(timeout=10_000)
        assert "(400)" in msg.inner_text()
        page.evaluate("location.hash = '#/history'")
        page.wait_for_selector(".exports a")
        href = page.get_attribute(".exports a", "href")
        assert href.startswith("/historical/export/alerts?time_range=1d")
        answer = page.evaluate(f"fetch('{href}').then(async r => [r.status, await r.text()])")
        assert answer[0] == 200, answer
        assert "server_name" in answer[1].splitlines()[0]  # the CSV's header
    finally:
        context.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_view_renders_at_both_widths(fleet: Fleet, browser, width: str) -> None:  # noqa: ANN001
    context, page = _page(browser, width)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    elsewhere: list[str] = []  # nothing may be fetched from anywhere but the daemon
    local = (fleet.daemon.url, "data:")
    page.on("request", lambda r: None if r.url.startswith(local) else elsewhere.append(r.url))
    try:
        _login(page, fleet)
        _shoot(page, fleet, f"fleet-{width}")
        views = {
            "server": (f"#/server/{fleet.names[0]}", ".chart canvas"),
            "alerts": ("#/alerts", "#view h2"),
            "cascades": ("#/cascades", "#cascade-state, #view .notice"),
            "model": ("#/model", "#training-progress"),
            "history": ("#/history", ".exports a"),
        }
        for name, (hash_, ready) in views.items():
            page.evaluate(f"location.hash = '{hash_}'")
            try:
                page.wait_for_selector(ready, timeout=15_000)
            except sync_api.TimeoutError:
                _shoot(page, fleet, f"{name}-{width}-failed")
                raise AssertionError(f"{name} at {width} never got ready: {errors}") from None
            page.wait_for_timeout(300)  # let charts settle before the picture
            _shoot(page, fleet, f"{name}-{width}")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{name} scrolls sideways at {width}"
        assert errors == [] and elsewhere == []
    finally:
        context.close()
    requests.get(fleet.daemon.url + "/health", timeout=5).raise_for_status()
