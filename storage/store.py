"""The Store owns the DuckDB connection: one writer at a time, a cursor per reader."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from argus.errors import StoreLockedError
from argus.storage.migrations import MIGRATIONS, SCHEMA_VERSION_DDL

log = logging.getLogger(__name__)

DB_FILE_NAME = "argus.duckdb"


class Store:
    """A DuckDB file. DuckDB allows one read-write process; this class serialises its writers."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
        self._con = con
        self._write_lock = threading.Lock()
        self.path = path
        self.read_only = read_only

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False) -> Store:
        """Open (creating and migrating unless read-only) the database at `path`."""
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreLockedError(
                    f"{path} is in use by another process (is the daemon running?)"
                ) from exc
            raise
        store = cls(con, path, read_only)
        if not read_only:
            store.migrate()
        return store

    def migrate(self) -> int:
        """Apply pending migrations; return the schema version."""
        with self.writer() as cur:
            cur.execute(SCHEMA_VERSION_DDL)
            row = cur.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
            current = int(row[0]) if row else 0
            for version, description, sql in MIGRATIONS:
                if version <= current:
                    continue
                cur.execute(sql)
                cur.execute(
                    "INSERT INTO schema_version (version, description) VALUES (?, ?)",
                    [version, description],
                )
                log.info("applied migration %d: %s", version, description)
                current = version
        return current

    def schema_version(self) -> int:
        with self.reader() as cur:
            row = cur.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
        return int(row[0]) if row else 0

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a cursor inside a transaction; commit on success, roll back on error."""
        with self._write_lock:
            cur = self._con.cursor()
            try:
                cur.execute("BEGIN TRANSACTION")
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a cursor of its own: DuckDB connections are not shared across threads."""
        cur = self._con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def close(self) -> None:
        """Checkpoint and close; safe to call twice."""
        with self._write_lock:
            if not self.read_only:
                try:
                    self._con.execute("CHECKPOINT")
                except duckdb.Error as exc:
                    log.warning("checkpoint on close failed: %s", exc)
            self._con.close()
