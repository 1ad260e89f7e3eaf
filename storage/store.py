"""The Store owns the DuckDB connection: one writer at a time, a cursor per reader."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from argus.errors import ArgusError, StoreLockedError
from argus.storage.migrations import MIGRATIONS, SCHEMA_VERSION_DDL

log = logging.getLogger(__name__)

DB_FILE_NAME = "argus.duckdb"


HEADER_BYTES = 3 * 4096  # DuckDB's file header and two database headers precede the blocks


class StoreDamagedError(ArgusError):
    """The database file cannot be opened or read: truncated, not DuckDB, or not accessible."""

    http_status = 503
    exit_status = 1


def unusable_message(path: Path, exc: Exception) -> str:
    """One line: which file, what is wrong, what to do."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "wal" in reason.lower() or "write-ahead" in reason.lower():
        return (
            f"the write-ahead log of {path} could not be replayed ({reason}). Move "
            f"{path.name}.wal aside to start from the last checkpoint (later records are lost), "
            "or restore a backup."
        )
    if "permission" in reason.lower() or "read-only" in reason.lower():
        return f"cannot use database {path}: {reason}. Make {path.parent} writable by this user."
    return (
        f"database {path} is damaged ({reason}). Move it aside and restore a backup "
        "(see `argus backup --help`), or start with an empty data directory."
    )


def restrict_permissions(path: Path) -> None:
    """The data directory 0700 and the database files 0600: metrics are nobody else's."""
    for candidate in (path, path.with_name(path.name + ".wal")):
        if candidate.exists():
            candidate.chmod(0o600)
    path.parent.chmod(0o700)


class Store:
    """A DuckDB file. DuckDB allows one read-write process; this class serialises its writers."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
        self._con = con
        self._write_lock = threading.Lock()
        self._backup_lock = threading.Lock()
        self.path = path
        self.read_only = read_only

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False) -> Store:
        """Open (creating and migrating unless read-only) the database at `path`, then check
        that every table reads; a damaged file is a StoreDamagedError, one line, no traceback."""
        if not read_only:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        wal = path.with_name(path.name + ".wal")
        wal_bytes = wal.stat().st_size if wal.exists() else 0
        try:
            con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreLockedError(
                    f"{path} is in use by another process (is the daemon running?)"
                ) from exc
            raise StoreDamagedError(unusable_message(path, exc)) from exc
        except duckdb.Error as exc:
            raise StoreDamagedError(unusable_message(path, exc)) from exc
        store = cls(con, path, read_only)
        try:
            store.verify()
            if not read_only:
                store.migrate()
                restrict_permissions(path)
        except duckdb.Error as exc:
            con.close()
            raise StoreDamagedError(unusable_message(path, exc)) from exc
        except BaseException:
            con.close()
            raise
        if wal_bytes:
            # DuckDB replays the log silently and drops a torn tail; say so where people look.
            log.warning(
                "%s was not closed cleanly: replayed %d bytes of write-ahead log %s; records "
                "acknowledged after the last complete log entry may be missing",
                path,
                wal_bytes,
                wal,
            )
        return store

    def verify(self) -> None:
        """Read the file's size against DuckDB's block count, and one row of every table."""
        with self.reader() as cur:
            row = cur.execute("SELECT block_size, total_blocks FROM pragma_database_size()")
            block_size, blocks = row.fetchone() or (0, 0)
            expected = HEADER_BYTES + int(block_size) * int(blocks)
            size = self.path.stat().st_size if self.path.exists() else 0
            if blocks and size < expected:
                raise duckdb.IOException(f"file is {size} bytes, its blocks need {expected}")
            tables = cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
            for (table,) in tables:
                cur.execute(f'SELECT * FROM "{table}" LIMIT 1').fetchall()  # noqa: S608

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

    def backup_to(self, target: Path) -> None:
        """Copy the whole database into a new DuckDB file `target` as one consistent snapshot
        (a read transaction: ingest goes on meanwhile). Works on a read-only store too."""
        if target.exists():
            raise FileExistsError(f"{target} already exists")
        quoted = str(target).replace("'", "''")
        with self._backup_lock, self.reader() as cur:
            row = cur.execute("SELECT current_database()").fetchone()
            source = str(row[0] if row else "").replace('"', '""')
            cur.execute(f"ATTACH '{quoted}' AS argus_backup (READ_WRITE)")
            try:
                cur.execute(f'COPY FROM DATABASE "{source}" TO argus_backup')
            finally:
                cur.execute("DETACH argus_backup")
        target.chmod(0o600)

    def close(self) -> None:
        """Checkpoint and close; safe to call twice."""
        with self._write_lock:
            if not self.read_only:
                try:
                    self._con.execute("CHECKPOINT")
                except duckdb.Error as exc:
                    log.warning("checkpoint on close failed: %s", exc)
            self._con.close()
