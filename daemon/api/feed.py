"""POST /feed/data: the one way metrics come in."""

from __future__ import annotations

from flask import Response, current_app, request
from pydantic import ValidationError

from argus.daemon.ingest import ingest_batch, timestamp_problems
from argus.daemon.limits import RATE_LIMITS
from argus.daemon.routing import Route, respond
from argus.daemon.schemas import ErrorBody, FeedBody, ValidationErrorBody
from argus.records import FeedBatch, RecordError, record_errors

_BODY_ERRORS = {"json_invalid", "json_type", "model_type", "model_attributes_type"}


def feed_data() -> Response:
    try:
        batch = FeedBatch.model_validate_json(request.get_data())
    except ValidationError as exc:
        errors = record_errors(exc)
        if any(e["type"] in _BODY_ERRORS and len(e["loc"]) <= 1 for e in exc.errors()):
            detail = f"body must be a JSON object with a 'records' list: {errors[0].reason}"
            return respond(ErrorBody(detail=detail, status=400), 400)
        detail = _invalid_detail(exc, errors)
        return respond(ValidationErrorBody(detail=detail, status=422, errors=errors), 422)
    services = current_app.extensions["argus"]
    out_of_range = timestamp_problems(services, batch)
    if out_of_range:
        bad = len({e.index for e in out_of_range})
        detail = f"{bad} record(s) dated outside the accepted range; nothing was stored"
        return respond(ValidationErrorBody(detail=detail, status=422, errors=out_of_range), 422)
    return respond(ingest_batch(services, batch))


def _invalid_detail(exc: ValidationError, errors: list[RecordError]) -> str:
    """Name what is wrong: the batch as a whole (e.g. empty), or how many records."""
    if any(e["type"] == "too_short" and tuple(e["loc"]) == ("records",) for e in exc.errors()):
        return "the batch is empty: 'records' must hold at least one record; nothing was stored"
    batch = [f"{e.field}: {e.reason}" for e in errors if e.index is None]
    if batch:
        return f"invalid batch ({'; '.join(batch)}); nothing was stored"
    return f"{len({e.index for e in errors})} invalid record(s); nothing was stored"


ROUTES = (
    Route(
        "/feed/data",
        "POST",
        feed_data,
        "Push a batch of metric records (all-or-nothing)",
        {200: FeedBody, 400: ErrorBody, 413: ErrorBody, 422: ValidationErrorBody},
        body=FeedBatch,
        limit=RATE_LIMITS["/feed/data"],
        tags=("ingest",),
    ),
)
