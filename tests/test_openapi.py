"""/openapi.json covers every route, and real responses validate against it."""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator

from tests.factories import make_batch, make_record


@pytest.fixture
def spec(client) -> dict:
    resp = client.get("/openapi.json")
    assert resp.status_code == 200
    return resp.get_json()


def test_every_registered_route_is_documented(app, spec) -> None:
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    registered = {
        (re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not rule.endpoint.startswith("ui.")  # HTML pages
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert registered == documented


def _check(spec: dict, path: str, method: str, resp) -> None:
    op = spec["paths"][path][method]
    assert str(resp.status_code) in op["responses"], f"{method} {path} -> {resp.status_code}"
    schema = op["responses"][str(resp.status_code)]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": spec["components"]})
    errors = list(validator.iter_errors(resp.get_json()))
    assert not errors, [e.message for e in errors]


def test_real_responses_validate(client, anon_client, spec) -> None:
    _check(spec, "/health", "get", client.get("/health"))
    _check(spec, "/status", "get", client.get("/status"))
    _check(spec, "/openapi.json", "get", client.get("/openapi.json"))
    _check(
        spec, "/feed/data", "post", client.post("/feed/data", json={"records": make_batch(2, 60)})
    )
    _check(
        spec, "/feed/data", "post", client.post("/feed/data", json={"records": make_batch(2, 1)})
    )
    _check(
        spec,
        "/feed/data",
        "post",
        client.post("/feed/data", json={"records": [make_record(status="x")]}),
    )
    _check(spec, "/feed/data", "post", client.post("/feed/data", data="nope"))
    _check(spec, "/feed/data", "post", anon_client.post("/feed/data", json={}))
    _check(spec, "/status", "get", client.get("/status"))


def test_request_schema_matches_the_validator(spec) -> None:
    body = spec["paths"]["/feed/data"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    validator = Draft202012Validator({**body, "components": spec["components"]})
    assert validator.is_valid({"records": [make_record()]})
    assert not validator.is_valid({"records": [make_record(status="on_fire")]})
