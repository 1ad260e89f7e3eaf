"""Options every daemon command shares, and how the CLI finds the daemon and its key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from argus.client import ArgusClient

UrlOpt = Annotated[
    str | None,
    typer.Option("--url", envvar="ARGUS_URL",
                 help="Daemon URL (default: the running daemon's runtime file, else host:port)."),
]  # fmt: skip
HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="ARGUS_HOME", file_okay=False, help="Data directory."),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", envvar="ARGUS_CONFIG", dir_okay=False, help="TOML config file."),
]
JsonOpt = Annotated[bool, typer.Option("--json", envvar="ARGUS_JSON", help="Print JSON.")]


def connect(url: str | None, home: Path | None, config: Path | None) -> ArgusClient:
    """A client for the daemon: --url, else the runtime file in the data dir, else a running
    `argus demo`, else host:port.

    The key comes from ARGUS_API_KEY / TACHYON_API_KEY, the config file, or the key file; a
    running demo's daemon is reached with the demo's own key.
    """
    # Imported here: requests and pydantic would cost `argus --help` a quarter of a second.
    from argus.client import ArgusClient, runtime_url
    from argus.config import default_home, load_settings
    from argus.keys import resolve_api_key
    from argus.runtime import running_demo

    settings = load_settings({"home": home}, config_file=config)
    # A demo counts only where no data directory was chosen: --home means that daemon.
    demo = running_demo(os.environ) if settings.home == default_home(os.environ) else None
    base = (
        url
        or runtime_url(settings.home)
        or (demo.url if demo else None)
        or f"http://{settings.host}:{settings.port}"
    )
    if demo is not None and demo.url.rstrip("/") == base.rstrip("/"):
        return ArgusClient(base, demo.api_key)
    key = resolve_api_key(settings.home, settings.api_key, dict(os.environ), create=False)
    return ArgusClient(base, key.value if key else None)
