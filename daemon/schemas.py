"""Typed bodies of every response; /openapi.json is generated from these models."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from argus.records import RecordError


class ErrorBody(BaseModel):
    """Every error: a human-readable detail and the HTTP status."""

    detail: str
    status: int


class ValidationErrorBody(ErrorBody):
    """A refused batch: every bad field of every bad record; nothing was stored."""

    errors: list[RecordError]


class HealthBody(BaseModel):
    status: Literal["healthy"] = "healthy"
    service: str = "tft_inference_daemon"
    running: bool = True


class StatusBody(BaseModel):
    model_loaded: bool
    model_path: str | None = Field(description="model directory relative to the data dir")
    rolling_window_size: int = Field(description="5-minute steps kept per server")
    servers_tracked: int
    last_prediction: datetime | None
    uptime_seconds: float
    warmup_complete: bool
    window_records: int = Field(description="raw samples in the window, all servers")
    ticks: int = Field(description="5-minute buckets in the window, all servers")
    last_ingest: datetime | None = Field(description="wall-clock time of the last stored batch")
    data_time: datetime | None = Field(description="newest sample time (Argus's clock)")
    version: str


class DuplicateKey(BaseModel):
    server_name: str
    timestamp: datetime


class WarmupState(BaseModel):
    records: int
    required: int
    complete: bool


class FeedBody(BaseModel):
    """Result of a stored batch: `accepted` records are durably in DuckDB."""

    status: Literal["accepted", "warming_up", "ignored"] = Field(
        description="ignored: every record was a duplicate; warming_up: stored, but the window "
        "holds fewer records than predictions need"
    )
    accepted: int
    duplicates: int
    duplicate_records: list[DuplicateKey] = Field(description="the first 100 duplicates")
    servers_tracked: int
    warmup: WarmupState
    message: str
