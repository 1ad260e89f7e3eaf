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
    (
        2,
        "prediction cycles (environment snapshots), server risks and alert events",
        """
CREATE TABLE prediction_cycles (
    data_time TIMESTAMP PRIMARY KEY,
    computed_at TIMESTAMP NOT NULL,
    servers INTEGER NOT NULL,
    duration_ms DOUBLE NOT NULL,
    fleet_health DOUBLE NOT NULL,
    prob_30m DOUBLE NOT NULL,
    prob_8h DOUBLE NOT NULL,
    critical INTEGER NOT NULL,
    warning INTEGER NOT NULL,
    degraded INTEGER NOT NULL,
    healthy INTEGER NOT NULL,
    model VARCHAR NOT NULL
);
CREATE TABLE server_risks (
    data_time TIMESTAMP NOT NULL,
    server_name VARCHAR NOT NULL,
    profile VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    risk_score DOUBLE NOT NULL,
    level VARCHAR NOT NULL,
    dominant_metric VARCHAR NOT NULL,
    time_to_issue_minutes INTEGER,
    prob_30m DOUBLE NOT NULL,
    prob_8h DOUBLE NOT NULL,
    PRIMARY KEY (data_time, server_name)
);
CREATE TABLE alert_events (
    server_name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    event_time TIMESTAMP NOT NULL,
    level VARCHAR NOT NULL,
    previous_level VARCHAR NOT NULL,
    risk_score DOUBLE NOT NULL,
    dominant_metric VARCHAR NOT NULL,
    message VARCHAR NOT NULL,
    opened_at TIMESTAMP NOT NULL,
    duration_minutes DOUBLE
);
CREATE INDEX alert_events_time ON alert_events (event_time);
""",
    ),
    (
        3,
        "forecast points (for realised error) and drift checks",
        """
CREATE TABLE forecast_points (
    origin TIMESTAMP NOT NULL,
    server_name VARCHAR NOT NULL,
    target VARCHAR NOT NULL,
    step INTEGER NOT NULL,
    target_time TIMESTAMP NOT NULL,
    model VARCHAR NOT NULL,
    p10 DOUBLE NOT NULL,
    p50 DOUBLE NOT NULL,
    p90 DOUBLE NOT NULL
);
CREATE INDEX forecast_points_time ON forecast_points (target_time);
CREATE TABLE drift_checks (
    checked_at TIMESTAMP NOT NULL,
    data_time TIMESTAMP NOT NULL,
    model VARCHAR NOT NULL,
    per DOUBLE,
    dss DOUBLE,
    fds DOUBLE,
    anomaly_rate DOUBLE,
    drift_detected BOOLEAN NOT NULL,
    report VARCHAR NOT NULL
);
CREATE TABLE training_runs (
    id VARCHAR PRIMARY KEY,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    reason VARCHAR NOT NULL,
    model_name VARCHAR NOT NULL,
    epochs INTEGER NOT NULL,
    incremental BOOLEAN NOT NULL,
    status VARCHAR NOT NULL,
    promoted BOOLEAN,
    detail VARCHAR
);
""",
    ),
    (
        4,
        "cascade events",
        """
CREATE TABLE cascade_events (
    event_time TIMESTAMP NOT NULL,
    detected_at TIMESTAMP NOT NULL,
    total_servers INTEGER NOT NULL,
    correlation_score DOUBLE NOT NULL,
    severity VARCHAR NOT NULL,
    origin VARCHAR,
    affected_servers VARCHAR[] NOT NULL,
    cascades VARCHAR NOT NULL,
    recommendations VARCHAR[] NOT NULL
);
CREATE INDEX cascade_events_time ON cascade_events (event_time);
""",
    ),
    (
        5,
        "metrics: the server's CPU count when the sender knows it (load thresholds)",
        """
ALTER TABLE metrics ADD COLUMN cpu_cores INTEGER;
""",
    ),
    (
        6,
        "notification outbox: alert transitions waiting for (or sent to) Alertmanager and webhooks",
        """
CREATE SEQUENCE notify_outbox_id;
CREATE TABLE notify_outbox (
    id BIGINT PRIMARY KEY DEFAULT nextval('notify_outbox_id'),
    channel VARCHAR NOT NULL,
    alert_key VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    notices VARCHAR NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error VARCHAR,
    delivered_at TIMESTAMP
);
""",
    ),
    (
        7,
        "cascade events: when each episode was last seen (open episodes survive a restart)",
        """
ALTER TABLE cascade_events ADD COLUMN last_seen TIMESTAMP;
UPDATE cascade_events SET last_seen = event_time;
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
