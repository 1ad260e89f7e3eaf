"""Build /openapi.json from the route tables and their pydantic models."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from argus import __version__
from argus.daemon.routing import Route

REF_TEMPLATE = "#/components/schemas/{model}"


def _path(route: Route) -> tuple[str, list[dict[str, Any]]]:
    """Turn a Flask rule into an OpenAPI path and its path parameters."""
    rule = route.rule
    names = re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule)
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)
    params = [
        {
            "name": n,
            "in": "path",
            "required": True,
            "schema": dict(route.path_schemas.get(n, {"type": "string"})),
        }
        for n in names
    ]
    return path, params


def _query_params(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _operation(route: Route, refs: Mapping[Any, dict[str, Any]]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": route.endpoint,
        "summary": route.summary,
        "tags": list(route.tags),
        "responses": {
            str(code): {
                "description": model.__doc__.strip().splitlines()[0] if model.__doc__ else "",
                "content": {
                    media: {"schema": refs[(model, "serialization")]}
                    for media in (route.media_types if code == 200 else ("application/json",))
                },
            }
            for code, model in sorted(route.all_responses().items())
        },
    }
    if route.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(route.body, "validation")]}},
        }
    if not route.public:
        op["security"] = [{"ApiKey": []}, {"Bearer": []}, {"DashboardSession": []}]
    if route.limit:
        op["x-rate-limit"] = route.limit
    return op


def build_openapi(routes: Iterable[Route]) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of `routes`."""
    routes = list(routes)
    models: list[tuple[type[BaseModel], Any]] = []
    for route in routes:
        models.extend((m, "serialization") for m in route.all_responses().values())
        if route.body is not None:
            models.append((route.body, "validation"))
    refs, schema = models_json_schema(list(dict.fromkeys(models)), ref_template=REF_TEMPLATE)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        path, params = _path(route)
        op = _operation(route, refs)
        query = _query_params(route.query) if route.query else []
        if params or query:
            op["parameters"] = params + query
        paths.setdefault(path, {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Argus predictive monitoring API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": schema.get("$defs", {}),
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "Bearer": {"type": "http", "scheme": "bearer", "description": "the API key"},
                # the dashboard's login cookie; state-changing requests also send X-CSRF-Token
                "DashboardSession": {"type": "apiKey", "in": "cookie", "name": "argus_session"},
            },
        },
    }
