"""The feed's record schema: what `POST /feed/data` accepts, validated with pydantic."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
)

from argus.catalogue import (
    ABSENTABLE_METRICS,
    CPU_CORES_FIELD,
    METRIC_FIELDS,
    OPTIONAL_FIELDS,
    MetricField,
    Status,
)


def _to_naive_utc(value: datetime) -> datetime:
    """No zone means UTC; a zoned timestamp is converted to UTC. Stored naive."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


Timestamp = Annotated[datetime, AfterValidator(_to_naive_utc)]


# --- Strict input (hardening): numbers are JSON numbers, names are printable. -----------------


def numbers_only(value: Any) -> Any:
    """A metric is a JSON number: `true` is not 1.0 and `"20"` is not 20.0 (pydantic's lax
    mode would convert both)."""
    if isinstance(value, bool | str | bytes):
        raise ValueError("must be a JSON number")
    return value


# A profile names a group of servers on dashboards and in CSV exports: a letter or digit
# first (never a spreadsheet formula's = + - @), then printable characters only.
PRINTABLE_NAME = r"^\w[\w .:/&()+-]*$"


def _field_type(spec: MetricField) -> Any:
    constraints: dict[str, Any] = {"ge": spec.lo, "description": spec.description}
    if spec.hi is not None:
        constraints["le"] = spec.hi
    if spec.kind is float:
        constraints["allow_inf_nan"] = False
    return Annotated[spec.kind, BeforeValidator(numbers_only), Field(strict=False, **constraints)]


def _metric_field(spec: MetricField) -> tuple[Any, Any]:
    """Required, or absent-or-null allowed for ABSENTABLE_METRICS (a wrong value stays an error)."""
    if spec.name in ABSENTABLE_METRICS:
        return (_field_type(spec) | None, None)
    return (_field_type(spec), ...)


class _RecordBase(BaseModel):
    # Unknown extra fields are ignored, not errors (collectors send more than we read).
    model_config = ConfigDict(extra="ignore", frozen=True)

    timestamp: Timestamp = Field(description="ISO 8601; no zone means UTC")
    server_name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    status: Status
    profile: str | None = Field(
        default=None,
        max_length=64,
        pattern=PRINTABLE_NAME,
        description="defaults to the name-prefix profile",
    )


MetricRecord: type[_RecordBase] = create_model(  # type: ignore[call-overload]
    "MetricRecord",
    __base__=_RecordBase,
    __doc__="One sample of one server.",
    **{spec.name: _metric_field(spec) for spec in METRIC_FIELDS},
    **{spec.name: (_field_type(spec) | None, None) for spec in OPTIONAL_FIELDS},
    cpu_cores=(_field_type(CPU_CORES_FIELD) | None, None),
)


class FeedBatch(BaseModel):
    """The body of `POST /feed/data`."""

    model_config = ConfigDict(extra="ignore")

    records: list[MetricRecord] = Field(min_length=1)  # type: ignore[valid-type]


class RecordError(BaseModel):
    """Why one record of a batch was refused."""

    index: int | None = Field(description="position in `records`; null for a batch-level error")
    field: str
    reason: str


def record_errors(exc: ValidationError) -> list[RecordError]:
    """Turn pydantic's errors into one entry per bad field of each bad record."""
    out: list[RecordError] = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = list(err["loc"])
        index = None
        if len(loc) >= 2 and loc[0] == "records" and isinstance(loc[1], int):
            index = loc[1]
            loc = loc[2:]
        field = ".".join(str(part) for part in loc) or "body"
        out.append(RecordError(index=index, field=field, reason=err["msg"]))
    return out
