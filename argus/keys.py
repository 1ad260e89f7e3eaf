"""The API key: where it comes from, how it is created and compared."""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

KEY_FILE_NAME = ".tachyon_key"


@dataclass(frozen=True)
class ApiKey:
    """The key the daemon accepts and where it was found."""

    value: str
    source: str  # "ARGUS_API_KEY", "TACHYON_API_KEY", "settings" or the key file's path
    created: bool = False  # True when this start created the key file


def key_file(home: Path) -> Path:
    return home / KEY_FILE_NAME


def new_key() -> str:
    return secrets.token_urlsafe(32)


def write_key_file(path: Path, key: str) -> None:
    """Write `key` to `path` with mode 0600, replacing any old file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read_key_file(path: Path) -> str | None:
    try:
        key = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return key or None


def resolve_api_key(
    home: Path, configured: str | None, environ: dict[str, str], *, create: bool
) -> ApiKey | None:
    """Find the key: environment or settings, else the key file; create the file if asked."""
    for name in ("ARGUS_API_KEY", "TACHYON_API_KEY"):
        if environ.get(name):
            return ApiKey(environ[name], name)
    if configured:
        return ApiKey(configured, "settings")
    path = key_file(home)
    existing = read_key_file(path)
    if existing:
        return ApiKey(existing, str(path))
    if not create:
        return None
    key = new_key()
    write_key_file(path, key)
    return ApiKey(key, str(path), created=True)


def keys_match(expected: str, presented: str | None) -> bool:
    """Compare in constant time so the key cannot be guessed byte by byte."""
    if presented is None:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())
