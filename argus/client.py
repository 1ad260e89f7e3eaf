"""A small typed HTTP client for the daemon, used by the CLI (and usable by scripts)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from argus.errors import ArgusError

RUNTIME_FILE_NAME = "argus.runtime.json"


class DaemonUnavailableError(ArgusError):
    """Nothing answers at the daemon's address."""


class ApiError(ArgusError):
    """The daemon answered with an error status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def runtime_url(home: Path) -> str | None:
    """The URL a running daemon wrote to its runtime file, if any."""
    try:
        info = json.loads((home / RUNTIME_FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    host = str(info.get("host", "127.0.0.1"))
    # A daemon bound to every interface is reached on loopback from this machine.
    host = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, host)  # noqa: S104
    return f"http://{host}:{int(info['port'])}" if "port" in info else None


@dataclass(frozen=True)
class ArgusClient:
    """Talks to one daemon with one API key."""

    base_url: str
    api_key: str | None
    timeout: float = 30.0

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"X-API-Key": self.api_key} if self.api_key else {}
        try:
            resp = requests.request(
                method,
                self.base_url.rstrip("/") + path,
                headers=headers,
                timeout=self.timeout,
                **kwargs,
            )
        except requests.ConnectionError as exc:
            raise DaemonUnavailableError(
                f"no daemon answers at {self.base_url} (start one with `argus serve`)"
            ) from exc
        except requests.Timeout as exc:
            raise DaemonUnavailableError(f"the daemon at {self.base_url} did not answer") from exc
        if resp.status_code == 401:
            raise ApiError(
                "the daemon refused the API key: set ARGUS_API_KEY (or TACHYON_API_KEY) to the "
                "daemon's key, or check <data dir>/.tachyon_key",
                401,
            )
        if resp.status_code >= 400:
            try:
                detail = resp.json().get("detail", resp.text)
            except ValueError:
                detail = resp.text
            raise ApiError(f"{method} {path}: {resp.status_code} {detail}", resp.status_code)
        return resp

    def get(self, path: str, **params: Any) -> Any:
        """GET a JSON document."""
        clean = {k: v for k, v in params.items() if v is not None}
        return self._request("GET", path, params=clean).json()

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        """POST (optionally a JSON body) and return the JSON answer."""
        clean = {k: v for k, v in params.items() if v is not None}
        return self._request("POST", path, json=body, params=clean).json()

    def save(self, method: str, path: str, target: Path, **params: Any) -> int:
        """Stream a binary answer into `target` (written as `<target>.partial`, then renamed,
        so a cut connection never leaves a half file under the real name); return its size."""
        clean = {k: v for k, v in params.items() if v is not None}
        partial = target.with_name(target.name + ".partial")
        size = 0
        with (
            self._request(method, path, params=clean, stream=True) as resp,
            partial.open("wb") as fh,
        ):
            for block in resp.iter_content(1 << 20):
                fh.write(block)
                size += len(block)
        partial.replace(target)
        return size

    def download(self, path: str, **params: Any) -> bytes:
        """GET raw bytes (CSV exports)."""
        clean = {k: v for k, v in params.items() if v is not None}
        return self._request("GET", path, params=clean).content
