"""The dashboard pages: `/` (the app, or the login form without a session), login and logout.

The page itself carries no data: its script reads the same REST API as the CLI, authenticated by
the session cookie. The API key is posted once by the login form and is never echoed back.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_limiter import Limiter
from werkzeug.exceptions import HTTPException

from argus import __version__
from argus.catalogue import PROFILES, TARGETS
from argus.daemon.services import Services
from argus.daemon.ui import session as ui_session
from argus.keys import keys_match
from argus.thresholds import LEVELS, threshold_for

LOGIN_LIMIT = "10/minute"  # the form is the one place a key can be guessed from a browser
MAX_KEY_LENGTH = 512

# No inline script and nothing from another origin: the page loads only its own static files.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

TARGET_LABELS = {
    "cpu_pct": "CPU %",
    "mem_pct": "Memory %",
    "swap_pct": "Swap %",
    "iowait_pct": "I/O wait %",
    "load": "Load average",
    "disk_pct": "Disk %",
}

def page_config() -> str:
    """The tables the page needs (levels, targets, thresholds per profile) as JSON.

    Rendered into the page so the script uses the daemon's one table of thresholds and levels.
    """
    config = {
        "version": __version__,
        "levels": {
            level.value: {"color": band.color, "emoji": band.emoji, "min": band.min_score}
            for level, band in LEVELS.items()
        },
        "targets": {t: TARGET_LABELS[t] for t in TARGETS},
        "thresholds": {
            profile: {
                t: [threshold_for(t, profile).warning, threshold_for(t, profile).critical]
                for t in TARGETS
            }
            for profile in PROFILES
        },
    }
    # "</" cannot close the script element that holds this JSON.
    return json.dumps(config).replace("</", "<\\/")


def _same_origin() -> bool:
    """A form post must come from this daemon's own page (SameSite=Strict covers the cookie;
    this covers the login form, which has no cookie yet)."""
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if not origin:
        return True  # non-browser clients send neither
    return urlsplit(origin).netloc == request.host  # "null" (an opaque origin) never matches


def index() -> Response | str:
    if not ui_session.logged_in():
        return render_template("login.html", error=None)
    return render_template(
        "dashboard.html",
        csrf_token=ui_session.csrf_token(),
        config_json=page_config(),
        version=__version__,
    )


def login() -> Response | tuple[str, int]:
    services: Services = current_app.extensions["argus"]
    key = request.form.get("api_key", "")
    if not _same_origin():
        return render_template("login.html", error="Cross-site login refused."), 403
    if len(key) > MAX_KEY_LENGTH or not keys_match(services.api_key, key):
        return render_template("login.html", error="That is not this daemon's API key."), 401
    ui_session.start_session()
    return redirect(url_for("ui.index"), code=303)


def logout() -> Response | tuple[str, int]:
    if ui_session.logged_in() and not ui_session.csrf_ok(request.form.get(ui_session.CSRF_FIELD)):
        return render_template("login.html", error="Logout refused: stale page."), 403
    ui_session.end_session()
    return redirect(url_for("ui.index"), code=303)


def too_many_logins(exc: HTTPException) -> tuple[str, int]:
    """The login limit answers with the form, not the API's JSON error."""
    return render_template("login.html", error="Too many attempts; wait a minute."), 429


def page_headers(response: Response) -> Response:
    """The pages are never cached, framed, or allowed to load anything from elsewhere."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    # same-origin: a form post still says where it came from (Origin), other sites learn nothing
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if request.endpoint != "ui.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def dashboard_blueprint(limiter: Limiter) -> Blueprint:
    """A new blueprint per app (each app has its own limiter): the pages and their files."""
    bp = Blueprint(
        "ui",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/ui/static",
    )
    bp.after_request(page_headers)
    bp.register_error_handler(429, too_many_logins)
    bp.add_url_rule("/", "index", index, methods=["GET"])
    bp.add_url_rule("/ui/login", "login", limiter.limit(LOGIN_LIMIT)(login), methods=["POST"])
    bp.add_url_rule("/ui/logout", "logout", logout, methods=["POST"])
    return bp
