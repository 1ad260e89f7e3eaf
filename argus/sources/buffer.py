"""The agent's on-disk buffer: records waiting for the daemon, oldest first, one JSON per line.

Appends are flushed to disk before the agent moves on; removing the delivered head rewrites the
file to a temporary name and renames it, so a crash at any point leaves either the old or the
new file. A crash between a delivery and the removal resends records the daemon already holds:
the feed reports them as duplicates and stores nothing twice.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger("argus.agent")


class DiskBuffer:
    """At most `max_records` records in a JSON-lines file; past that the oldest are dropped."""

    def __init__(self, path: Path, max_records: int) -> None:
        self.path = path
        self.max_records = max_records
        path.parent.mkdir(parents=True, exist_ok=True)

    def _lines(self) -> list[str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [line for line in text.splitlines() if line.strip()]

    def __len__(self) -> int:
        return len(self._lines())

    def append(self, record: dict[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, separators=(",", ":")) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        lines = self._lines()
        if len(lines) > self.max_records:
            dropped = len(lines) - self.max_records
            log.warning("buffer full (%d records): dropped the oldest %d", len(lines), dropped)
            self._rewrite(lines[dropped:])

    def head(self, count: int) -> tuple[list[dict[str, Any]], int]:
        """The records of the oldest `count` lines, in order, and how many lines they took (a
        line a crash cut short is skipped, and dropped with the others)."""
        out = []
        lines = self._lines()[:count]
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                log.warning("skipped a damaged buffer line")
        return out, len(lines)

    def drop(self, count: int) -> None:
        """Remove the oldest `count` records (they were delivered)."""
        self._rewrite(self._lines()[count:])

    def _rewrite(self, lines: list[str]) -> None:
        partial = self.path.with_name(self.path.name + ".partial")
        with open(partial, "w", encoding="utf-8") as fh:
            fh.write("".join(line + "\n" for line in lines))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, self.path)
