"""Where a running `argus demo` says it is, so the CLI finds it without flags.

The demo runs in a data directory of its own (a temporary one by default) with a key of its own,
so neither is where `argus` looks by default. While it runs, the demo writes this small file
(mode 0600: it holds the key) into the default data directory and removes it when it stops.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from argus.config import default_home

DEMO_FILE_NAME = "argus.demo.json"


@dataclass(frozen=True)
class DemoInfo:
    """A running demo: its daemon's URL and key, its data directory, and both processes."""

    url: str
    api_key: str
    home: str
    demo_pid: int
    daemon_pid: int


def demo_file(environ: Mapping[str, str]) -> Path:
    return default_home(environ) / DEMO_FILE_NAME


def write_demo_info(path: Path, info: DemoInfo) -> None:
    """Write atomically with mode 0600 (the file holds the demo's API key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(info), fh)
    os.replace(partial, path)


def remove_demo_info(path: Path, demo_pid: int) -> None:
    """Remove the file if it is still this demo's (a newer demo may have replaced it)."""
    info = read_demo_info(path, check_alive=False)
    if info is not None and info.demo_pid == demo_pid:
        path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def read_demo_info(path: Path, *, check_alive: bool = True) -> DemoInfo | None:
    """The demo named in `path`, or None when there is none or it is no longer running."""
    try:
        info = DemoInfo(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    if check_alive and not (_alive(info.demo_pid) and _alive(info.daemon_pid)):
        return None
    return info


def running_demo(environ: Mapping[str, str]) -> DemoInfo | None:
    """The demo running for this user, if any."""
    return read_demo_info(demo_file(environ))
