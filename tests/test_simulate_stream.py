"""Streaming to an HTTP feed: batching, rate limits, refusals and scenario control."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from argus.records import FeedBatch
from argus.simulate import Simulator
from argus.simulate.scenario import ScenarioRequest, control_path, write_request
from argus.simulate.stream import (
    FeedClient,
    FeedRejected,
    StreamStats,
    backfill,
    backfill_start,
    send_records,
    stream,
)

KEY = "stream-test-key-0123456789"


@dataclass
class FakeFeed:
    """What a throwaway feed server saw, and how it should answer."""

    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)
    rate_limited: int = 0  # answer this many requests with 429 first
    refuse: bool = False


def _handler(feed: FakeFeed) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            feed.keys.append(self.headers.get("X-API-Key"))
            if feed.rate_limited:
                feed.rate_limited -= 1
                self._answer(429, {"detail": "slow down"}, {"Retry-After": "0"})
            elif feed.refuse:
                errors = [{"index": 0, "field": "cpu_idle_pct", "reason": "too big"}]
                self._answer(422, {"detail": "invalid records", "errors": errors})
            else:
                FeedBatch(records=body["records"])
                feed.batches.append(body["records"])
                n = len(body["records"])
                self._answer(200, {"status": "accepted", "accepted": n, "duplicates": 0})

        def _answer(self, code: int, body: dict[str, Any], headers: dict[str, str] | None = None
                    ) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


@pytest.fixture
def feed() -> Iterator[tuple[FakeFeed, str]]:
    state = FakeFeed()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_backfill_sends_batches_of_at_most_5000_ending_now(feed: tuple[FakeFeed, str]) -> None:
    state, url = feed
    now = datetime(2025, 3, 4, 10, 7, 31, tzinfo=UTC)
    sim = Simulator.create(servers=20, seed=0, start=backfill_start(1.0, now))
    client = FeedClient(url, KEY)
    stats = backfill(sim, client, days=1.0)
    client.close()
    assert stats.accepted == stats.records == 20 * 289
    assert [len(b) for b in state.batches] == [5000, 780]
    assert state.batches[-1][-1]["timestamp"] == "2025-03-04T10:05:00Z"
    assert set(state.keys) == {KEY}


def test_rate_limit_is_waited_out(feed: tuple[FakeFeed, str]) -> None:
    state, url = feed
    state.rate_limited = 2
    waits: list[float] = []
    client = FeedClient(url, KEY, sleep=waits.append)
    stats = StreamStats()
    send_records(client, Simulator.create(servers=3).advance(2).records(), stats)
    client.close()
    assert waits == [0.0, 0.0]
    assert stats.accepted == 6 and len(state.batches) == 1


def test_invalid_batch_is_an_error(feed: tuple[FakeFeed, str]) -> None:
    state, url = feed
    state.refuse = True
    client = FeedClient(url, KEY)
    with pytest.raises(FeedRejected) as info:
        client.post(Simulator.create(servers=2).advance(1).records())
    client.close()
    assert info.value.errors[0]["field"] == "cpu_idle_pct"


def test_streamer_applies_the_scenario_file(feed: tuple[FakeFeed, str], tmp_path: Path) -> None:
    state, url = feed
    sim = Simulator.create(servers=45, seed=0)
    client = FeedClient(url, KEY)
    write_request(tmp_path, ScenarioRequest("cascade", None))
    messages: list[str] = []
    stats = stream(sim, client, speed=1e6, stop=threading.Event(), home=tmp_path,
                   max_ticks=3, report=messages.append)
    client.close()
    assert stats.batches == 3 and [len(b) for b in state.batches] == [45, 45, 45]
    assert not control_path(tmp_path).exists()  # consumed
    assert len(messages) == 1 and messages[0].startswith("scenario cascade")
    (cascade,) = sim.labels().cascades
    assert cascade.origin_server.startswith("ppdb")
    assert len(cascade.affected) >= 3


def test_scenarios_degrading_critical_and_healthy(tmp_path: Path) -> None:
    from argus.simulate.scenario import apply_request, take_request

    sim = Simulator.create(servers=12, seed=0)
    write_request(tmp_path, ScenarioRequest("critical", "ppdb001"))
    request = take_request(tmp_path)
    assert request == ScenarioRequest("critical", "ppdb001")
    assert "memory_leak on ppdb001" in apply_request(sim, request)
    sim.advance(12)
    assert "ended 1" in apply_request(sim, ScenarioRequest("healthy"))
    assert "memory_leak" in apply_request(sim, ScenarioRequest("degrading"))
    assert take_request(tmp_path) is None
    with pytest.raises(ValueError, match="unknown scenario"):
        write_request(tmp_path, ScenarioRequest("meltdown"))
