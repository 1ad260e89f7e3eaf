"""The daemon process: build services, rebuild the window, serve, shut down cleanly."""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from waitress.server import create_server

from argus.config import Settings
from argus.daemon.app import create_app
from argus.daemon.cycle import prediction_job
from argus.daemon.drift_job import drift_job
from argus.daemon.models import ModelHolder, ServingModel, load_serving_model
from argus.daemon.notify_job import channels, load_state, notify_job
from argus.daemon.pull_job import PrometheusPull
from argus.daemon.retention import purge_expired
from argus.daemon.services import Services
from argus.daemon.systemd import Watchdog, sd_notify
from argus.errors import ArgusError, ConfigError
from argus.keys import resolve_api_key
from argus.storage.metrics import read_window_samples
from argus.storage.predictions import read_open_alerts
from argus.storage.store import DB_FILE_NAME, Store
from argus.window import FleetWindow

log = logging.getLogger("argus.daemon")

RUNTIME_FILE_NAME = "argus.runtime.json"


def configure_logging(level: str) -> None:
    """One line per event on stderr."""
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    # APScheduler logs every wake-up and every skipped overlapping run; our jobs log their own
    # failures, so its chatter is kept for DEBUG runs only.
    logging.getLogger("apscheduler").setLevel(level if level == "DEBUG" else "ERROR")


def build_services(settings: Settings, api_key: str, model: ServingModel | None = None) -> Services:
    """Open the store, rebuild the window and the open alerts, load the serving model."""
    store = Store.open(settings.home / DB_FILE_NAME)
    window = FleetWindow(settings.window_steps)
    window.add(read_window_samples(store, settings.window_steps))
    log.info(
        "window rebuilt from %s: %d records, %d servers",
        store.path,
        window.record_count,
        len(window.servers()),
    )
    if model is None:
        model = load_serving_model(settings.home, settings.torch_threads)
    return Services(
        settings=settings,
        store=store,
        window=window,
        api_key=api_key,
        models=ModelHolder(model),
        restored_alerts=read_open_alerts(store, dwell=settings.alert_min_dwell),
        notify=load_state(store, settings),
    )


def watched(services: Services, watchdog: Watchdog) -> None:
    """The prediction job, feeding systemd's watchdog on every tick the scheduler runs."""
    prediction_job(services)
    watchdog.ping()


def build_scheduler(services: Services, watchdog: Watchdog | None = None) -> BackgroundScheduler:
    """The daemon's jobs: predictions, drift checks, retention, alert delivery and optional
    scheduled training."""
    settings = services.settings
    scheduler = BackgroundScheduler(
        timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1}
    )
    scheduler.add_job(purge_expired, "interval", hours=1, args=[services], id="retention")
    scheduler.add_job(
        watched,
        "interval",
        seconds=settings.cycle_check_seconds,
        args=[services, watchdog or Watchdog({})],
        id="predictions",
    )
    if channels(settings):
        scheduler.add_job(notify_job, "interval", seconds=1, args=[services], id="notify")
    # Every minute, from start-up: the job itself runs a check only when one is due, so the
    # first check comes as soon as the history allows instead of an hour after each start.
    scheduler.add_job(
        drift_job,
        "interval",
        seconds=min(60.0, settings.drift_check_minutes * 60),
        args=[services],
        id="drift",
        next_run_time=datetime.now(UTC),
    )
    if settings.prometheus_url:
        # The first pull (the backfill) runs at once; the later ones every pull interval.
        scheduler.add_job(
            PrometheusPull(services),
            "interval",
            seconds=settings.prometheus_pull_seconds,
            id="prometheus-pull",
            next_run_time=datetime.now(UTC),
        )
    if settings.retrain_cron:
        try:
            trigger = CronTrigger.from_crontab(settings.retrain_cron, timezone="UTC")
        except ValueError as exc:
            raise ConfigError(f"retrain_cron {settings.retrain_cron!r}: {exc}") from exc
        scheduler.add_job(scheduled_training, trigger, args=[services], id="scheduled-training")
    return scheduler


def scheduled_training(services: Services) -> None:
    """Cron-driven retraining; a run already in progress makes this one a no-op."""
    try:
        services.training.request(reason="schedule", cooldown=False)
    except Exception as exc:
        log.warning("scheduled training not started: %s", exc)


def write_runtime_file(path: Path, host: str, port: int) -> None:
    """Tell the CLI and tests where the running daemon listens (mode 0600).

    Written to a temporary file and renamed, so a reader never sees a half-written file.
    """
    info = {"pid": os.getpid(), "host": host, "port": port, "url": f"http://{host}:{port}"}
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(info, fh)
    os.replace(partial, path)


def listen_error(host: str, port: int, exc: OSError) -> str:
    """Say which address could not be used and how to choose another."""
    why = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be used: {exc}"
    return (
        f"cannot listen on {host}:{port}: the address {why}; choose another port with "
        "--port N or ARGUS_PORT=N (0 picks a free one), or the address with --host / ARGUS_HOST"
    )


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    # waitress's run() turns SystemExit into an orderly shutdown of its worker threads,
    # which lets requests in flight finish.
    raise SystemExit(0)


def run_daemon(settings: Settings) -> int:
    """Serve until SIGTERM or SIGINT; return the process exit status."""
    configure_logging(settings.log_level)
    os.umask(0o077)  # every file the daemon (and its training child) writes: 0600
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = resolve_api_key(settings.home, settings.api_key, dict(os.environ), create=True)
    assert key is not None  # noqa: S101 - create=True always yields a key
    if key.created:
        print(f"Created API key file {key.source} (mode 0600). API key: {key.value}", flush=True)
    else:
        log.info("API key from %s", key.source)

    services = build_services(settings, key.value)
    scheduler = build_scheduler(services, Watchdog())
    runtime = settings.home / RUNTIME_FILE_NAME
    try:
        server = create_server(
            create_app(services),
            host=settings.host,
            port=settings.port,
            threads=settings.threads,
            ident="argus",
        )
    except OSError as exc:
        services.store.close()
        raise ArgusError(listen_error(settings.host, settings.port, exc)) from None
    port = int(server.effective_port)
    if not settings.public_url:
        services.notify.base_url = f"http://{settings.host}:{port}"
    previous = signal.signal(signal.SIGTERM, _raise_exit)
    try:
        purge_expired(services)
        scheduler.start()
        write_runtime_file(runtime, settings.host, port)
        log.info("listening on http://%s:%d (data dir %s)", settings.host, port, settings.home)
        sd_notify(f"READY=1\nSTATUS=listening on port {port}")
        server.run()
    except KeyboardInterrupt:
        server.task_dispatcher.shutdown()
    finally:
        signal.signal(signal.SIGTERM, previous)
        log.info("shutting down")
        sd_notify("STOPPING=1")
        pull = scheduler.get_job("prometheus-pull")
        if pull is not None:
            pull.func.stop()  # a backfill in progress stops after the range it is storing
        scheduler.shutdown(wait=True)
        services.training.cancel()
        server.close()
        services.store.close()
        runtime.unlink(missing_ok=True)
        log.info("stopped")
    return 0
