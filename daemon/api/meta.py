"""GET /openapi.json: the API described from its own route tables."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from pydantic import RootModel

from argus.daemon.routing import Route, respond


class OpenApiDocument(RootModel[dict[str, Any]]):
    """An OpenAPI 3.1 document."""


def openapi() -> Response:
    return respond(OpenApiDocument(current_app.extensions["argus_openapi"]))


ROUTES = (
    Route(
        "/openapi.json",
        "GET",
        openapi,
        "This API's OpenAPI document",
        {200: OpenApiDocument},
        tags=("daemon",),
    ),
)
