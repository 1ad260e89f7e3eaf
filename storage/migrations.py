"""Versioned schema migrations, applied in order on open; `schema_version` records each one."""

from __future__ import annotations

from argus.catalogue import METRIC_FIELDS, OPTIONAL_FIELDS


def _metric_columns() -> str:
    cols = []
    for spec in (*METRIC_FIELDS, *OPTIONAL_FIELDS):
        sql_type = "DOUBLE" if spec.kind is float else "INTEGER"
        cols.append(f"    {spec.name} {sql_type}")
    return ",\n".join(cols)


# (version, description, SQL). Never edit a released migration: append a new one.
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "metrics table",
        f"""
CREATE TABLE metrics (
    server_name VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    profile VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
{_metric_columns()},
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (server_name, ts)
);
""",
    ),
)

SCHEMA_VERSION_DDL = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
"""
