"""Settings: one table, one loading path.

Precedence: command-line flags > `ARGUS_*` environment > TOML config file > defaults.
The config file is `--config`, else `$ARGUS_CONFIG`, else `$XDG_CONFIG_HOME/argus/config.toml`.
The data directory is `ARGUS_HOME`, else `$XDG_DATA_HOME/argus`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from argus.errors import ConfigError

ENV_PREFIX = "ARGUS_"
HTTP_URL = r"^https?://[^\s/]+"  # an http(s) URL with a host


def default_home(environ: Mapping[str, str]) -> Path:
    """Return the data directory when no setting names one."""
    xdg = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "argus"


def default_config_file(environ: Mapping[str, str]) -> Path:
    """Return the config file read when `--config` is not given."""
    if environ.get("ARGUS_CONFIG"):
        return Path(environ["ARGUS_CONFIG"])
    xdg = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(xdg) / "argus" / "config.toml"


class Settings(BaseModel):
    """Every setting of the daemon. The environment variable is ARGUS_<NAME upper-cased>."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    home: Path = Field(description="data directory (DuckDB file, API key, models)")
    host: str = Field(default="127.0.0.1", description="address the daemon listens on")
    port: int = Field(default=8000, ge=0, le=65535, description="TCP port; 0 picks a free one")
    api_key: str | None = Field(
        default=None, min_length=16, description="API key (also read from TACHYON_API_KEY)"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="log level of the one-line-per-event stderr log"
    )
    threads: int = Field(default=8, ge=1, le=64, description="HTTP worker threads")
    torch_threads: int = Field(default=1, ge=1, le=64, description="torch threads in the daemon")
    max_body_mb: float = Field(default=10.0, gt=0, description="largest accepted request body")
    retention_days: int = Field(default=30, ge=1, description="metrics older than this are purged")
    window_steps: int = Field(
        default=2304,
        ge=12,
        description="5-minute steps kept in memory per server (8 days: the TFT's seasonal "
        "covariates read the same time on each of the last 7 days before its 12-hour encoder)",
    )
    warmup_records: int = Field(
        default=100, ge=1, description="records the window needs before predictions start"
    )
    cycle_check_seconds: float = Field(
        default=5.0, gt=0, description="how often the scheduler looks for a new 5-minute bucket"
    )
    prediction_interval_seconds: float = Field(
        default=300.0, gt=0, description="a prediction cycle runs at least this often"
    )
    alert_hysteresis: float = Field(
        default=5.0, ge=0, le=30, description="points below a band before an alert is lowered"
    )
    alert_min_dwell: int = Field(
        default=3, ge=1, description="prediction cycles a level holds before it can be lowered"
    )
    drift_check_minutes: float = Field(default=60.0, gt=0, description="minutes between checks")
    drift_window_hours: float = Field(
        default=24.0, gt=0, description="rolling window of the drift metrics"
    )
    drift_per: float = Field(default=0.10, gt=0, description="PER threshold")
    drift_dss: float = Field(default=0.20, gt=0, description="DSS threshold")
    drift_fds: float = Field(default=0.15, gt=0, description="FDS threshold")
    drift_anomaly_rate: float = Field(default=0.05, gt=0, description="anomaly-rate threshold")
    enable_retraining: bool = Field(default=False, description="retrain automatically on drift")
    retrain_cooldown_hours: float = Field(
        default=24.0, ge=0, description="least time between two drift-triggered trainings"
    )
    retrain_cron: str | None = Field(
        default=None, description="also retrain on this cron schedule (e.g. '0 3 * * 0')"
    )
    # 4 weeks: each training window also reads the week before it (the usual-level covariate),
    # so 14 days left one week of windows; retention_days (30) bounds what is there.
    retrain_days: float = Field(default=28.0, gt=0, description="days of history a retrain uses")
    retrain_holdout_hours: float = Field(
        default=24.0, gt=0, description="recent hours held out to compare candidate and current"
    )
    retrain_epochs: int = Field(default=10, ge=1, description="epochs of a triggered training")
    retrain_max_minutes: float = Field(default=30.0, gt=0, description="time cap of a training")
    retrain_patience: int = Field(
        default=4, ge=1, description="epochs without validation improvement before it stops early"
    )
    cascade_anomaly_z: float = Field(
        default=4.0, gt=0, description="robust z-score at which a server-metric is anomalous"
    )
    cascade_servers: int = Field(
        default=3, ge=3, description="servers anomalous on one metric together make a cascade"
    )
    cascade_correlation: float = Field(
        default=0.7, gt=0, le=1, description="anomaly-signal correlation that makes a cascade"
    )
    stale_after_minutes: float = Field(
        default=15.0,
        gt=0,
        description="a server whose last sample is this far behind the fleet's newest is stale",
    )
    prometheus_url: str | None = Field(
        default=None, description="pull node_exporter metrics from this Prometheus (http://host:9090)"
    )
    prometheus_pull_seconds: float = Field(
        default=300.0, ge=1, description="seconds between two pulls from Prometheus"
    )
    prometheus_server_label: str = Field(
        default="instance", min_length=1, description="the label whose values are Argus's servers"
    )
    prometheus_selector: str = Field(
        default="", description='PromQL label matchers that narrow the fleet, e.g. job="node"'
    )
    prometheus_step_seconds: int = Field(
        default=300,
        ge=1,
        le=3600,
        description="seconds between two pulled samples of a server (rates are averaged over it)",
    )
    dashboard_session_hours: float = Field(
        default=12.0, gt=0, le=24 * 30, description="a dashboard login lasts this long unused"
    )
    dashboard_secure_cookie: bool = Field(
        default=False,
        description="always mark the dashboard cookie Secure (behind a TLS-terminating proxy)",
    )
    rate_limits_enabled: bool = Field(default=True, description="apply the per-route rate limits")
    rate_limit_storage_uri: str = Field(
        default="memory://", description="flask-limiter storage, e.g. redis://host:6379"
    )
    # Delivery of alerts, scraping and running behind a proxy (docs/production.md).
    alertmanager_url: str | None = Field(
        default=None, pattern=HTTP_URL, description="push alerts to this Alertmanager (base URL)"
    )
    alertmanager_resend_seconds: float = Field(
        default=60.0, gt=0, description="how often active alerts are re-sent to Alertmanager"
    )
    webhook_url: str | None = Field(
        default=None, pattern=HTTP_URL, description="POST every alert transition here"
    )
    webhook_secret: str | None = Field(
        default=None, description="sign webhook bodies with HMAC-SHA256 of this secret"
    )
    notify_retry_seconds: float = Field(
        default=5.0, gt=0, description="first retry delay of a failed delivery (doubles to 5 min)"
    )
    public_url: str | None = Field(
        default=None, pattern=HTTP_URL, description="URL people reach the daemon at (alert links)"
    )
    metrics_public: bool = Field(default=False, description="serve /metrics without a key")
    cors_origins: str = Field(
        default="", description="comma-separated origins allowed by CORS; empty: CORS off"
    )
    trusted_proxies: int = Field(
        default=0, ge=0, le=10, description="reverse proxies in front (X-Forwarded-For hops)"
    )
    # Hardening: one stray timestamp must never stretch a grid or purge the store.
    max_future_minutes: float = Field(
        default=10.0, ge=0, description="records dated further ahead of the wall clock are refused"
    )
    retention_max_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="most of the stored samples one retention pass may delete without "
        "`argus purge --force`",
    )
    clock_jump_hours: float = Field(
        default=24.0, gt=0, description="a batch moving data time further ahead is logged"
    )


def settings_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Collect `ARGUS_*` variables that name a setting (plus TACHYON_API_KEY)."""
    found: dict[str, Any] = {}
    if environ.get("TACHYON_API_KEY"):
        found["api_key"] = environ["TACHYON_API_KEY"]
    for name in Settings.model_fields:
        value = environ.get(ENV_PREFIX + name.upper())
        if value not in (None, ""):
            found[name] = value
    return found


def read_config_file(path: Path) -> dict[str, Any]:
    """Read the `[argus]` table (or the top level) of a TOML config file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    table = data.get("argus", data)
    if not isinstance(table, dict):
        raise ConfigError(f"config file {path}: [argus] must be a table")
    return table


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings from flags, environment, config file and defaults, in that order."""
    environ = os.environ if environ is None else environ
    explicit = config_file is not None
    path = config_file or default_config_file(environ)
    merged: dict[str, Any] = {}
    if explicit or path.exists():
        merged.update(read_config_file(path))
    merged.update(settings_from_env(environ))
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
    merged["home"] = Path(merged.get("home") or default_home(environ)).expanduser()
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc
