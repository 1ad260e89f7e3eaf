"""`argus demo`: start a daemon, backfill it with a simulated fleet, then stream live ticks."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
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
from argus.runtime import DemoInfo, demo_file, remove_demo_info, write_demo_info
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
LOG_FILE = "argus-demo.log"  # the daemon's log: kept out of the terminal so the banner stays
# The demo's training with the defaults (45 servers, 8 days, --train-minutes 2): the network
# trains for 90 % of the cap, then data preparation, the blend, calibration and the validation
# scores take the rest. Measured 2026-12-07: 8 min 28 s on 2 CPU cores shared with other jobs
# (load average 11); the run prints its own time.
TRAINING_NOTE = "about 2 minutes on 2 idle cores, 8.5 on 2 busy ones"


class DemoError(RuntimeError):
    """The demo could not start or keep its daemon."""


DEMO_FUTURE_MINUTES = str(60 * 24 * 366 * 10)  # ten years of simulated time ahead


@dataclass(frozen=True)
class DemoOptions:
    """Everything `argus demo` takes."""

    home: Path
    port: int = 8000
    servers: int = 45
    backfill_days: float = 8.0  # 8 days: the same time on each of the last 7 days exists
    speed: float = 60.0  # one 5-minute tick every 5 s
    seed: int = 0
    incident_rate: float = IncidentRates().per_server_day
    train_minutes: float = 2.0  # 0: serve the seasonal-naive fallback
    argus_cmd: str = "argus"  # how the user runs argus, for the banner


def check_port(port: int, host: str = "127.0.0.1") -> None:
    """Fail before minutes of training when the daemon could not listen on `port`."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc})"
            raise DemoError(
                f"{host}:{port} {why}: choose another port with --port N or ARGUS_PORT=N "
                "(--port 0 picks a free one)"
            ) from None


def start_daemon(
    home: Path, port: int, key: str, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start `argus serve` as a child process using `key`; its output goes to `log` if given."""
    argv = [sys.executable, "-c", "from argus.cli.main import main; main()", "serve"]
    argv += ["--port", str(port), "--home", str(home)]
    # The demo's simulated clock runs ahead of the wall clock (--speed), which a real daemon
    # refuses (max_future_minutes); this daemon serves only the simulation.
    env = {**os.environ, "ARGUS_API_KEY": key, "ARGUS_MAX_FUTURE_MINUTES": DEMO_FUTURE_MINUTES}
    if log is None:
        return subprocess.Popen(argv, env=env)  # noqa: S603 - fixed argv, our own interpreter
    with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603


def _log_tail(log: Path | None, lines: int = 5) -> str:
    if log is None:
        return ""
    try:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return ""
    return "; the end of its log (" + str(log) + "):\n  " + "\n  ".join(tail) if tail else ""


def _runtime_url(home: Path, pid: int) -> str | None:
    try:
        info = json.loads((home / RUNTIME_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    # A file left by an earlier daemon names someone else's port.
    return str(info["url"]) if info.get("pid") == pid else None


def wait_ready(
    proc: subprocess.Popen[bytes],
    home: Path,
    port: int,
    timeout: float = 60.0,
    log: Path | None = None,
) -> str:
    """Poll until the daemon answers GET /health with 200; return its base URL."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DemoError(
                f"the daemon exited with status {proc.returncode} before it was ready"
                + _log_tail(log)
            )
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


def argus_command(argv0: str) -> str:
    """How the user can run argus from here: `argus` when it is on PATH, else the script's path."""
    script = Path(argv0)
    if script.name != "argus":  # e.g. python -c: we cannot tell, the name is the best guess
        return "argus"
    found = shutil.which("argus")
    if found and script.exists() and Path(found).resolve() == script.resolve():
        return "argus"
    try:
        return str(script.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(script.resolve())


def banner(url: str, key: str, opts: DemoOptions, log: Path, temporary: bool) -> str:
    """What the user needs to talk to the demo daemon, as commands to copy."""
    argus, names = opts.argus_cmd, " | ".join(SCENARIOS)
    home = f"{opts.home} (removed when the demo stops)" if temporary else str(opts.home)
    return "\n".join(
        [
            "",
            f"Argus demo daemon: {url}",
            f"Dashboard:         {url}/ (sign in with the API key)",
            f"API key:           {key}",
            f"Data directory:    {home}",
            f"Daemon log:        {log}",
            f"Data clock:        {opts.speed:g}x (one 5-minute sample per server every "
            f"{300 / opts.speed:g} s)",
            "",
            "In another terminal (argus finds this demo by itself):",
            f"  {argus} status",
            f"  {argus} alerts",
            f"  {argus} predictions",
            f"  {argus} scenario critical     # or {names}; [--server NAME]",
            "",
            "Other clients:",
            f"  export ARGUS_URL={url} ARGUS_API_KEY={key}",
            f"  curl -H 'X-API-Key: {key}' {url}/alerts/active",
            "",
            "Ctrl-C stops the demo and the daemon.",
        ]
    )


def _elapsed(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def train_demo_model(
    home: Path, history: Block, minutes: float, echo: Callable[[str], None]
) -> None:
    """Train a TFT on the backfilled history (unless home already has a current model)."""
    from argus.forecast import registry
    from argus.forecast.artifacts import current_name, models_dir_for
    from argus.forecast.base import TrainOptions, TrainProgress
    from argus.forecast.training import train_model
    from argus.simulate.dataset import block_frame

    models = models_dir_for(home)
    if current_name(models) is not None:
        echo(f"serving the existing model {current_name(models)}")
        return
    registry.set_threads(1, ("tft",))  # one thread, as the daemon; quiets the libraries
    echo(
        f"training a TFT on the simulated history: the network trains for up to {minutes:g} "
        f"minute(s), then calibration and scoring follow ({TRAINING_NOTE}; "
        "--train-minutes 0 skips training) ..."
    )
    last_epoch, started = [0], time.monotonic()

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
    took = _elapsed(time.monotonic() - started)
    echo(f"model {result.name} trained in {took} and made current")


def run_demo(opts: DemoOptions, echo: Callable[[str], None], temporary: bool = False) -> int:
    """Run the demo until Ctrl-C or SIGTERM; return the daemon's exit status."""
    check_port(opts.port)
    sim = Simulator.create(
        opts.servers,
        opts.seed,
        backfill_start(opts.backfill_days),
        IncidentRates(per_server_day=opts.incident_rate),
    )
    history = sim.advance(backfill_steps(opts.backfill_days), natural=True)
    if opts.train_minutes > 0:
        train_demo_model(opts.home, history, opts.train_minutes, echo)
    key, log = new_key(), opts.home / LOG_FILE
    opts.home.mkdir(parents=True, exist_ok=True)
    proc = start_daemon(opts.home, opts.port, key, log)
    stop = threading.Event()

    def _on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _on_term)
    client: FeedClient | None = None
    pointer = demo_file(os.environ)
    try:
        url = wait_ready(proc, opts.home, opts.port, log=log)
        write_demo_info(pointer, DemoInfo(url, key, str(opts.home), os.getpid(), proc.pid))
        client = FeedClient(url, key)
        echo(f"backfilling {opts.backfill_days:g} day(s) of {opts.servers} servers ...")
        stats = StreamStats()
        send_records(client, history.records(), stats, MAX_BATCH)
        echo(f"backfill: {stats.accepted} records accepted in {stats.batches} batch(es)")
        echo(banner(url, key, opts, log, temporary))
        stream(sim, client, speed=opts.speed, stop=stop, home=opts.home, report=echo)
    except KeyboardInterrupt:
        echo("stopping ...")
    finally:
        signal.signal(signal.SIGTERM, previous)
        remove_demo_info(pointer, os.getpid())
        if client is not None:
            client.close()
        status = stop_daemon(proc)
    echo(f"daemon stopped (exit status {status})")
    return status
