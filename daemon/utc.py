"""Times in responses: always UTC with an explicit offset (`2025-01-15T00:00:00Z`).

Argus keeps naive UTC datetimes internally (DuckDB TIMESTAMP, the feed's "no zone means UTC");
a response must not leave the reader to guess, and OpenAPI's `date-time` requires the offset.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema


def utc_iso(value: datetime) -> str:
    """ISO 8601 in UTC with a `Z`; a naive value is UTC already."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")


UtcDateTime = Annotated[
    datetime,
    PlainSerializer(utc_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
