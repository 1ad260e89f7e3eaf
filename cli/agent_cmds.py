"""`argus agent`: sample this host with psutil and push the records to a daemon."""

from __future__ import annotations

import json
import logging
import re
import signal
import socket
import sys
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from argus.cli.connect import ConfigOpt, HomeOpt, UrlOpt, connect

if TYPE_CHECKING:
    from argus.client import ArgusClient
    from argus.sources.buffer import DiskBuffer

log = logging.getLogger("argus.agent")

BATCH = 500  # records per POST when a backlog is sent
BUFFER_FILE_NAME = "agent-buffer.jsonl"
ONCE_SECONDS = 1.0  # the interval --once measures rates over


def server_name(raw: str) -> str:
    """A host name as a valid server_name (letters, digits, _ . : -)."""
    return re.sub(r"[^A-Za-z0-9_.:-]", "-", raw)[:128] or "host"


def deliver(client: ArgusClient, buffer: DiskBuffer) -> bool:
    """Send the buffered records oldest first; True when the buffer is empty.

    A record the daemon already holds comes back as a duplicate (it was delivered before a
    crash or a lost answer): it is not stored twice. A batch the daemon refuses as invalid (422)
    moves to `<buffer>.rejected`, so one bad record cannot block the others forever.
    """
    from argus.client import ApiError, DaemonUnavailableError

    while True:
        records, lines = buffer.head(BATCH)
        if not lines:
            return True
        try:
            answer = client.post("/feed/data", {"records": records})
        except DaemonUnavailableError as exc:
            log.warning("%s; %d record(s) kept on disk", exc.message, len(buffer))
            return False
        except ApiError as exc:
            if exc.status != 422:
                log.warning("%s; %d record(s) kept on disk", exc.message, len(buffer))
                return False
            rejected = buffer.path.with_name(buffer.path.name + ".rejected")
            with open(rejected, "a", encoding="utf-8") as fh:
                fh.writelines(json.dumps(r) + "\n" for r in records)
            log.error("the daemon refused %d record(s) (%s), kept in %s", lines, exc, rejected)
        else:
            log.info(
                "sent %d record(s): %d stored, %d already stored",
                len(records),
                answer["accepted"],
                answer["duplicates"],
            )
        buffer.drop(lines)


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def agent(
    url: UrlOpt = None,
    interval: Annotated[
        float,
        typer.Option(envvar="ARGUS_AGENT_INTERVAL", min=1.0, help="Seconds between samples."),
    ] = 300.0,
    once: Annotated[
        bool,
        typer.Option(
            envvar="ARGUS_AGENT_ONCE",
            help=f"Sample once (over {ONCE_SECONDS:g} s), send it with any backlog, and exit.",
        ),
    ] = False,
    name: Annotated[
        str | None,
        typer.Option(envvar="ARGUS_AGENT_NAME", help="Server name (default: the host name)."),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            envvar="ARGUS_AGENT_PROFILE", help="Profile (default: derived from the name)."
        ),
    ] = None,
    buffer_path: Annotated[
        Path | None,
        typer.Option(
            "--buffer",
            envvar="ARGUS_AGENT_BUFFER",
            dir_okay=False,
            help=f"Backlog file while the daemon is unreachable (default: <data dir>/"
            f"{BUFFER_FILE_NAME}).",
        ),
    ] = None,
    max_buffer: Annotated[
        int,
        typer.Option(
            envvar="ARGUS_AGENT_MAX_BUFFER",
            min=1,
            help="Most records kept while the daemon is unreachable; past it the oldest go.",
        ),
    ] = 50_000,
    home: HomeOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Sample this host with psutil every --interval seconds and push it to the daemon.

    Records wait on disk while the daemon is unreachable and are sent in order once it is back;
    none is lost or stored twice. The API key comes from ARGUS_API_KEY, TACHYON_API_KEY, the
    config file or the data dir's key file. Exit status with --once: 0 when everything was
    delivered, 1 when records stay buffered.
    """
    from argus.config import load_settings
    from argus.sources.buffer import DiskBuffer
    from argus.sources.host import take_sample, to_record

    logging.basicConfig(
        level="INFO", stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    client = connect(url, home, config)
    settings = load_settings({"home": home}, config_file=config)
    buffer = DiskBuffer(buffer_path or settings.home / BUFFER_FILE_NAME, max_buffer)
    host = server_name(name or socket.gethostname())
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        before = take_sample()
        next_at = time.monotonic() + (ONCE_SECONDS if once else interval)
        while True:
            time.sleep(max(next_at - time.monotonic(), 0.0))
            next_at += interval
            after = take_sample()
            record = to_record(before, after, host, profile)
            before = after
            buffer.append(record)
            log.info("sampled %s at %s", host, record["timestamp"])
            delivered = deliver(client, buffer)
            if once:
                raise typer.Exit(0 if delivered else 1)
    except (KeyboardInterrupt, SystemExit):
        log.info("stopped; %d record(s) wait in %s", len(buffer), buffer.path)
    finally:
        signal.signal(signal.SIGTERM, previous)


def register(app: typer.Typer) -> None:
    app.command()(agent)
