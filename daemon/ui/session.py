"""The dashboard's login session: a signed cookie the API routes accept instead of X-API-Key.

The cookie holds no key, only "logged in" and a CSRF token, signed by Flask with a secret derived
from the API key (HMAC-SHA256 of the key under a fixed label): it is not guessable, it is not the
key, every daemon sharing a key accepts the same sessions, and changing the key logs every browser
out. A session expires after `dashboard_session_hours` without a request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from enum import Enum

from flask import Flask, Request, request, session
from flask.sessions import SecureCookieSessionInterface

COOKIE_NAME = "argus_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SECRET_LABEL = b"argus dashboard session v1"


class SessionCheck(Enum):
    """What a request's dashboard cookie allows."""

    NONE = "no valid session"
    OK = "authenticated by the session"
    CSRF = "session without a matching CSRF token on a state-changing request"


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure when the request came over HTTPS (or when told to)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def session_secret(api_key: str) -> bytes:
    """The signing secret: HMAC-SHA256 of the key, so the secret never equals the key."""
    return hmac.new(api_key.encode(), _SECRET_LABEL, hashlib.sha256).digest()


def configure_sessions(app: Flask, api_key: str, hours: float, always_secure: bool) -> None:
    """Set up the signed session cookie: HttpOnly, SameSite=Strict, Secure under HTTPS."""
    app.secret_key = session_secret(api_key)
    app.session_interface = _SessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=always_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=hours),
    )


def start_session() -> str:
    """Mark this browser logged in; return its new CSRF token."""
    session.clear()
    session.permanent = True
    session["auth"] = True
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return str(session[CSRF_FIELD])


def end_session() -> None:
    session.clear()


def logged_in() -> bool:
    return session.get("auth") is True


def csrf_token() -> str:
    return str(session.get(CSRF_FIELD, ""))


def csrf_ok(presented: str | None) -> bool:
    expected = csrf_token()
    return bool(expected) and presented is not None and hmac.compare_digest(expected, presented)


def check_session(request: Request) -> SessionCheck:
    """Does the dashboard cookie authenticate `request`? A state-changing request also needs the
    session's CSRF token in the X-CSRF-Token header (a cross-site page cannot read it)."""
    if not logged_in():
        return SessionCheck.NONE
    if request.method in SAFE_METHODS or csrf_ok(request.headers.get(CSRF_HEADER)):
        return SessionCheck.OK
    return SessionCheck.CSRF
