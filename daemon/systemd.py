"""sd_notify: tell systemd (Type=notify) the daemon is ready, and keep its watchdog fed.

The protocol is one datagram to the Unix socket named by NOTIFY_SOCKET (an abstract socket when
the name starts with '@'); without the variable every call is a no-op, so the daemon runs the
same under a terminal, a container or systemd.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger("argus.systemd")


def sd_notify(message: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send `message` (e.g. 'READY=1') to systemd; False when not run under Type=notify."""
    environ = os.environ if environ is None else environ
    address = environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError as exc:
        log.warning("sd_notify %r to %s failed: %s", message, address, exc)
        return False
    return True


class Watchdog:
    """Sends WATCHDOG=1 at most every half WatchdogSec (systemd's WATCHDOG_USEC)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = dict(os.environ if environ is None else environ)
        usec = self._environ.get("WATCHDOG_USEC", "")
        pid = self._environ.get("WATCHDOG_PID", "")
        for_us = usec.isdigit() and (not pid or pid == str(os.getpid()))
        self.interval = int(usec) / 2e6 if for_us else None
        self._last = 0.0

    def ping(self) -> None:
        """Called from the prediction job's every tick: a stuck scheduler stops the pings."""
        if self.interval is None:
            return
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            sd_notify("WATCHDOG=1", self._environ)
