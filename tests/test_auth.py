"""The API key: required everywhere but /health and /status; compared in constant time."""

from __future__ import annotations

import os
import stat

import pytest

from argus.daemon.app import all_routes
from argus.keys import keys_match, resolve_api_key
from tests.factories import TEST_KEY

PROTECTED = [r for r in all_routes() if not r.public]


def _url(rule: str) -> str:
    return rule.replace("<server_name>", "ppdb001")


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: f"{r.method} {r.rule}")
@pytest.mark.parametrize("key", [None, "wrong-key-0123456789", TEST_KEY + "x", ""])
def test_protected_routes_refuse_missing_or_wrong_key(anon_client, route, key) -> None:
    headers = {} if key is None else {"X-API-Key": key}
    resp = anon_client.open(_url(route.rule), method=route.method, headers=headers, json={})
    assert resp.status_code == 401
    assert resp.get_json() == {"detail": "Invalid or missing API key", "status": 401}


def test_every_route_except_health_and_status_is_protected() -> None:
    assert {r.rule for r in all_routes() if r.public} == {"/health", "/status"}


@pytest.mark.parametrize("path", ["/health", "/status"])
def test_public_routes_need_no_key(anon_client, path) -> None:
    assert anon_client.get(path).status_code == 200


def test_keys_match_is_exact() -> None:
    assert keys_match("abc", "abc")
    assert not keys_match("abc", "abd")
    assert not keys_match("abc", None)
    assert not keys_match("abc", "abcd")


def test_key_file_is_created_with_mode_0600(tmp_path) -> None:
    key = resolve_api_key(tmp_path, None, {}, create=True)
    assert key is not None and key.created
    mode = stat.S_IMODE(os.stat(key.source).st_mode)
    assert mode == 0o600
    again = resolve_api_key(tmp_path, None, {}, create=True)
    assert again is not None and again.value == key.value and not again.created


def test_environment_key_wins_and_tachyon_name_works(tmp_path) -> None:
    env = {"TACHYON_API_KEY": "from-tachyon-0123456789"}
    key = resolve_api_key(tmp_path, "from-settings-0123456", env, create=True)
    assert key is not None and (key.value, key.source) == (
        env["TACHYON_API_KEY"],
        "TACHYON_API_KEY",
    )
    assert not (tmp_path / ".tachyon_key").exists()
    assert resolve_api_key(tmp_path, None, {}, create=False) is None
