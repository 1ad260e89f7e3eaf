"""Stale servers: a server whose newest sample lags the fleet's by `stale_after_minutes`.

Argus's clock is the data's time, so "no data for 20 minutes" is measured against the newest
sample of the whole fleet, not the wall clock: a replay of old traces behaves like live data, and
a fleet that stops reporting altogether makes no server stale (the ingest counters and the last
ingest time in /status show that case).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from argus.risk import format_minutes
from argus.window import ServerFacts


@dataclass(frozen=True)
class StaleServer:
    """A server that stopped reporting."""

    profile: str
    last_sample: datetime
    minutes: int  # whole minutes between its last sample and the fleet's newest

    @property
    def message(self) -> str:
        return f"No data for {format_minutes(self.minutes)}"


def stale_servers(
    facts: Mapping[str, ServerFacts], now: datetime, after_minutes: float
) -> dict[str, StaleServer]:
    """The servers whose last sample is more than `after_minutes` before `now` (data time)."""
    out: dict[str, StaleServer] = {}
    for name, fact in facts.items():
        silent = (now - fact.last_sample).total_seconds() / 60
        if silent > after_minutes:
            out[name] = StaleServer(fact.profile, fact.last_sample, int(silent))
    return out
