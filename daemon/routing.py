"""Route specs: one table per blueprint drives registration, auth, rate limits and OpenAPI."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Response
from pydantic import BaseModel

from argus.daemon.schemas import ErrorBody

View = Callable[..., Response]


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

    @property
    def endpoint(self) -> str:
        return self.view.__name__

    def all_responses(self) -> dict[int, type[BaseModel]]:
        """The documented responses plus the errors every route can answer."""
        errors: dict[int, type[BaseModel]] = {429: ErrorBody} if self.limit else {}
        if not self.public:
            errors[401] = ErrorBody
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
