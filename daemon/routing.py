"""Route specs: one table per blueprint drives registration, auth, rate limits and OpenAPI."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Response, request
from pydantic import BaseModel, ValidationError

from argus.daemon.schemas import ErrorBody
from argus.errors import InvalidInputError

View = Callable[..., Response]
M = TypeVar("M", bound=BaseModel)


# The path parameter of routes about one server: the feed's server_name rule.
SERVER_NAME_SCHEMA = {"type": "string", "pattern": r"^[A-Za-z0-9_.:-]+$", "maxLength": 128}


@dataclass(frozen=True)
class Route:
    """One HTTP operation of the API."""

    rule: str
    method: str
    view: View
    summary: str
    responses: Mapping[int, type[BaseModel]]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    limit: str | None = None  # flask-limiter notation, e.g. "60/minute"
    public: bool = False  # public routes need no API key
    tags: tuple[str, ...] = field(default_factory=tuple)
    media_type: str = "application/json"  # of the 200 response
    other_media_types: tuple[str, ...] = ()  # a 200 the query can ask in another form (export)
    # JSON schemas of path parameters (an enum, a pattern); a plain string where absent
    path_schemas: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.other_media_types)

    @property
    def endpoint(self) -> str:
        return self.view.__name__

    def all_responses(self) -> dict[int, type[BaseModel]]:
        """The documented responses plus the errors every route can answer."""
        errors: dict[int, type[BaseModel]] = {429: ErrorBody} if self.limit else {}
        if not self.public:
            errors[401] = ErrorBody
        if self.query is not None:
            errors[400] = ErrorBody
        if "<" in self.rule:
            errors[404] = ErrorBody
        return {**errors, **self.responses}


def respond(
    body: BaseModel, status: int = 200, headers: Mapping[str, Any] | None = None
) -> Response:
    """Serialise a response model as JSON."""
    return Response(
        body.model_dump_json(),
        status=status,
        headers=dict(headers or {}),
        mimetype="application/json",
    )


def query_args(model: type[M]) -> M:
    """Validate the query string; a bad value is a 400 that names the parameter."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise InvalidInputError(f"invalid query parameter: {problems}") from exc


RETRY_AFTER_SECONDS = 60


def insufficient_data(records: int, required: int, pending: str) -> Response:
    """503 + Retry-After while the window warms up or until the first result (`pending`) exists."""
    from argus.daemon.schemas import InsufficientDataBody

    detail = (
        f"insufficient_data: {records} of the {required} records needed"
        if records < required
        else f"insufficient_data: {pending}"
    )
    body = InsufficientDataBody(detail=detail, status=503, records=records, required=required)
    return respond(body, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)})
