"""`argus demo`: start a daemon, backfill it with a simulated fleet, then stream live ticks."""

from __future__ import annotations

import json
import os
import signal
import subprocess  # noqa: S404 - we start our own daemon with a fixed argument list
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import requests

from argus.errors import InvalidInputError
from argus.keys import new_key
from argus.simulate.block import Block
from argus.simulate.planner import IncidentRates
from argus.simulate.scenario import SCENARIOS
from argus.simulate.simulator import Simulator
from argus.simulate.stream import (
    MAX_BATCH,
    FeedClient,
    StreamStats,
    backfill_start,
    backfill_steps,
    send_records,
    stream,
)

RUNTIME_FILE = "argus.runtime.json"


class DemoError(RuntimeError):
    """The demo could not start or keep its daemon."""


DEMO_FUTURE_MINUTES = str(60 * 24 * 366 * 10)  # ten years of simulated time ahead


@dataclass(frozen=True)
class DemoOptions:
    """Everything `argus demo` takes."""

    home: Path
    port: int = 8000
    servers: int = 45
    backfill_days: float = 3.0
    speed: float = 1.0
    seed: int = 0
    incident_rate: float = IncidentRates().per_server_day
    train_minutes: float = 2.0  # 0: serve the seasonal-naive fallback


def start_daemon(home: Path, port: int, key: str) -> subprocess.Popen[bytes]:
    """Start `argus serve` as a child process using `key`."""
    return subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
        [
            sys.executable,
            "-c",
            "from argus.cli.main import main; main()",
            "serve",
            "--port",
            str(port),
            "--home",
            str(home),
        ],
        # The demo's simulated clock runs ahead of the wall clock (--speed), which a real
        # daemon refuses (max_future_minutes); this daemon serves only the simulation.
        env={**os.environ, "ARGUS_API_KEY": key, "ARGUS_MAX_FUTURE_MINUTES": DEMO_FUTURE_MINUTES},
    )


def _runtime_url(home: Path, pid: int) -> str | None:
    try:
        info = json.loads((home / RUNTIME_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    # A file left by an earlier daemon names someone else's port.
    return str(info["url"]) if info.get("pid") == pid else None


def wait_ready(proc: subprocess.Popen[bytes], home: Path, port: int, timeout: float = 60.0) -> str:
    """Poll until the daemon answers GET /health with 200; return its base URL."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DemoError(f"the daemon exited with status {proc.returncode} before it was ready")
        url = _runtime_url(home, proc.pid) if port == 0 else f"http://127.0.0.1:{port}"
        if url is not None:
            try:
                if requests.get(f"{url}/health", timeout=2).status_code == 200:
                    return url
            except requests.RequestException:
                pass
        time.sleep(0.2)
    raise DemoError(f"the daemon did not answer {timeout:.0f} s after it started")


def stop_daemon(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
    """Send SIGTERM and wait; kill if it does not stop in time. Return its exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return int(proc.returncode)


def banner(url: str, key: str, home: Path) -> str:
    """Return what the user needs to talk to the demo daemon."""
    names = " | ".join(SCENARIOS)
    return "\n".join(
        [
            f"Argus demo daemon: {url}",
            f"Dashboard: {url}/",
            f"API key:           {key}",
            f"Data directory:    {home}",
            "",
            "Try:",
            f"  curl {url}/health",
            f"  curl {url}/status",
            f"  curl -H 'X-API-Key: {key}' {url}/predictions/current",
            f"  curl -H 'X-API-Key: {key}' {url}/alerts/active",
            "",
            "Change what happens (applied at the next tick):",
            f"  argus scenario {{{names}}} [--server NAME] --home {home}",
            "",
            "Ctrl-C stops the demo and the daemon.",
        ]
    )


def train_demo_model(
    home: Path, history: Block, minutes: float, echo: Callable[[str], None]
) -> None:
    """Train a TFT on the backfilled history (unless home already has a current model)."""
    from argus.forecast.artifacts import current_name, models_dir_for
    from argus.forecast.base import TrainOptions, TrainProgress
    from argus.forecast.training import train_model
    from argus.simulate.dataset import block_frame

    models = models_dir_for(home)
    if current_name(models) is not None:
        echo(f"serving the existing model {current_name(models)}")
        return
    echo(f"training a TFT on the simulated history for up to {minutes:g} minute(s) ...")
    last_epoch = [0]

    def report(p: TrainProgress) -> None:
        if p.epoch != last_epoch[0] and p.batch == p.batches_per_epoch:
            last_epoch[0] = p.epoch
            loss = "-" if p.train_loss is None else f"{p.train_loss:.4f}"
            echo(f"  epoch {p.epoch}: loss {loss}, {p.elapsed_s:.0f} s")

    options = TrainOptions(epochs=20, max_minutes=minutes, seed=0, progress=report)
    try:
        result = train_model(
            block_frame(history), models_dir=models, name="demo-tft", options=options
        )
    except InvalidInputError as exc:  # e.g. a backfill too short to train on
        echo(f"not training ({exc.message}); the seasonal-naive fallback serves")
        return
    echo(f"model {result.name} trained and made current")


def run_demo(opts: DemoOptions, echo: Callable[[str], None]) -> int:
    """Run the demo until Ctrl-C or SIGTERM; return the daemon's exit status."""
    sim = Simulator.create(
        opts.servers,
        opts.seed,
        backfill_start(opts.backfill_days),
        IncidentRates(per_server_day=opts.incident_rate),
    )
    history = sim.advance(backfill_steps(opts.backfill_days), natural=True)
    if opts.train_minutes > 0:
        train_demo_model(opts.home, history, opts.train_minutes, echo)
    key = new_key()
    proc = start_daemon(opts.home, opts.port, key)
    stop = threading.Event()

    def _on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _on_term)
    client: FeedClient | None = None
    try:
        url = wait_ready(proc, opts.home, opts.port)
        client = FeedClient(url, key)
        echo(f"backfilling {opts.backfill_days:g} day(s) of {opts.servers} servers ...")
        stats = StreamStats()
        send_records(client, history.records(), stats, MAX_BATCH)
        echo(f"backfill: {stats.accepted} records accepted in {stats.batches} batch(es)")
        echo(banner(url, key, opts.home))
        stream(sim, client, speed=opts.speed, stop=stop, home=opts.home, report=echo)
    except KeyboardInterrupt:
        echo("stopping ...")
    finally:
        signal.signal(signal.SIGTERM, previous)
        if client is not None:
            client.close()
        status = stop_daemon(proc)
    echo(f"daemon stopped (exit status {status})")
    return status
