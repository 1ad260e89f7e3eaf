"""Store maintenance: `argus backup` (daemon running or not) and `argus purge` (retention now)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from argus.cli.connect import ConfigOpt, HomeOpt, JsonOpt, UrlOpt, connect
from argus.cli.render import print_json


def backup(
    out: Annotated[
        Path,
        typer.Option("--out", envvar="ARGUS_BACKUP_OUT", dir_okay=False,
                     help="Where to write the backup (a DuckDB file; must not exist)."),
    ],
    url: UrlOpt = None,
    home: HomeOpt = None,
    config: ConfigOpt = None,
    offline: Annotated[
        bool,
        typer.Option("--offline", envvar="ARGUS_BACKUP_OFFLINE",
                     help="Read the data dir's database directly (the daemon must be stopped)."),
    ] = False,
) -> None:
    """Copy the whole database into a new DuckDB file, consistently, while the daemon runs.

    To restore: stop the daemon, move <data dir>/argus.duckdb and argus.duckdb.wal aside, copy
    the backup to <data dir>/argus.duckdb, start the daemon.
    """
    from argus.errors import InvalidInputError

    if out.exists():
        raise InvalidInputError(f"{out} already exists; choose a new file")
    if offline:
        from argus.config import load_settings
        from argus.storage.store import DB_FILE_NAME, Store

        settings = load_settings({"home": home}, config_file=config)
        store = Store.open(settings.home / DB_FILE_NAME, read_only=True)
        try:
            store.backup_to(out)
        finally:
            store.close()
        size = out.stat().st_size
    else:
        client = dataclasses.replace(connect(url, home, config), timeout=600.0)
        size = client.save("POST", "/admin/backup", out)
        out.chmod(0o600)
    typer.echo(f"backup written to {out} ({size} bytes)")


def purge(
    url: UrlOpt = None,
    home: HomeOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    force: Annotated[
        bool,
        typer.Option("--force", envvar="ARGUS_PURGE_FORCE",
                     help="Delete even more than retention_max_share of the stored samples."),
    ] = False,
) -> None:
    """Run retention now: delete samples older than retention_days before data time."""
    data = connect(url, home, config).post("/admin/purge", force=str(force).lower())
    if as_json:
        return print_json(data)
    if data["skipped"]:
        typer.echo(
            f"skipped: {data['expired']} of {data['stored']} samples are older than "
            f"{data['cutoff']}; that is more than retention_max_share. Use --force to delete them."
        )
        raise typer.Exit(1)
    typer.echo(f"removed {data['removed']} of {data['stored']} samples (before {data['cutoff']})")


def register(app: typer.Typer) -> None:
    app.command()(backup)
    app.command()(purge)
