"""Store maintenance while the daemon runs: a consistent backup, and retention on demand."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from flask import Response, current_app
from pydantic import BaseModel, ConfigDict, Field, RootModel

from argus.daemon.limits import ADMIN_LIMIT
from argus.daemon.retention import purge_expired
from argus.daemon.routing import Route, query_args, respond
from argus.daemon.schemas import UtcDateTime
from argus.daemon.services import Services

CHUNK = 1 << 20


class DuckDBFile(RootModel[bytes]):
    """A DuckDB database file: the whole store as of one transaction."""


class PurgeQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    force: bool = Field(
        default=False, description="delete even more than retention_max_share of the samples"
    )


class PurgeBody(BaseModel):
    """One retention pass: samples older than `cutoff` are expired."""

    cutoff: UtcDateTime | None = Field(description="null while nothing is stored")
    expired: int
    stored: int = Field(description="samples stored before the pass")
    removed: int
    skipped: bool = Field(description="true: it would remove over retention_max_share")


def _services() -> Services:
    return current_app.extensions["argus"]


def purge() -> Response:
    query = query_args(PurgeQuery)
    done = purge_expired(_services(), force=query.force)
    return respond(PurgeBody(skipped=done.skipped, **done.__dict__))


def _stream_and_delete(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as fh:
            while block := fh.read(CHUNK):
                yield block
    finally:
        path.unlink(missing_ok=True)


def backup() -> Response:
    services = _services()
    spool = services.settings.home / "backups"
    spool.mkdir(mode=0o700, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="backup-", suffix=".duckdb", dir=spool)
    os.close(fd)
    target = Path(name)
    target.unlink()  # DuckDB creates the file itself
    try:
        services.store.backup_to(target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    stamp = f"{datetime.now().astimezone():%Y%m%dT%H%M%S%z}"
    return Response(
        _stream_and_delete(target),
        mimetype="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="argus-{stamp}.duckdb"',
            "Content-Length": str(target.stat().st_size),
        },
    )


ROUTES = (
    Route(
        "/admin/backup",
        "POST",
        backup,
        "A consistent copy of the database as a DuckDB file (restore: see docs/operations.md)",
        {200: DuckDBFile},
        limit=ADMIN_LIMIT,
        tags=("admin",),
        media_type="application/octet-stream",
    ),
    Route(
        "/admin/purge",
        "POST",
        purge,
        "Run retention now (force: even past retention_max_share)",
        {200: PurgeBody},
        query=PurgeQuery,
        limit=ADMIN_LIMIT,
        tags=("admin",),
    ),
)
