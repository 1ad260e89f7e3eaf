"""The API key a request presents: `X-API-Key`, or `Authorization: Bearer <key>`.

Prometheus (and most HTTP tooling) can send a bearer token but not a custom header, so both carry
the same key; the comparison stays in keys_match (constant time) and a wrong key is the same 401.
"""

from __future__ import annotations

from collections.abc import Mapping

from werkzeug.datastructures import Headers

API_KEY_HEADER = "X-API-Key"
BEARER_PREFIX = "bearer "


def presented_key(headers: Headers | Mapping[str, str]) -> str | None:
    """The key in `X-API-Key`, else the token of an `Authorization: Bearer` header."""
    key = headers.get(API_KEY_HEADER)
    if key is not None:
        return key
    authorization = headers.get("Authorization", "")
    if authorization[: len(BEARER_PREFIX)].lower() == BEARER_PREFIX:
        return authorization[len(BEARER_PREFIX) :].strip()
    return None
