"""create_app: the Flask application factory. It builds routes and starts no threads."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, current_app, g, request
from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from argus.daemon.api import (
    admin,
    drift,
    explain,
    feed,
    health,
    history,
    maintenance,
    meta,
    metrics,
    predictions,
    server_metrics,
)
from argus.daemon.api.cascade import ROUTES as CASCADE_ROUTES
from argus.daemon.bearer import presented_key
from argus.daemon.openapi import build_openapi
from argus.daemon.routing import Route, respond
from argus.daemon.schemas import ErrorBody
from argus.daemon.services import Services
from argus.daemon.ui.session import SessionCheck, check_session, configure_sessions
from argus.daemon.ui.views import dashboard_blueprint
from argus.errors import ArgusError
from argus.keys import keys_match

log = logging.getLogger("argus.http")

API_KEY_HEADER = "X-API-Key"
UNAUTHORIZED = "Invalid or missing API key"
CSRF_REFUSED = "Missing or wrong X-CSRF-Token for a session-authenticated request"


def all_routes() -> tuple[Route, ...]:
    """Every route of the API, in documentation order."""
    return (
        *health.ROUTES,
        *feed.ROUTES,
        *predictions.ROUTES,
        *explain.ROUTES,
        *CASCADE_ROUTES,
        *drift.ROUTES,
        *history.ROUTES,
        *server_metrics.ROUTES,
        *admin.ROUTES,
        *maintenance.ROUTES,
        *metrics.ROUTES,
        *meta.ROUTES,
    )


def create_app(services: Services) -> Flask:
    """Build the HTTP API over `services`; serve it with waitress (see daemon/service.py)."""
    settings = services.settings
    app = Flask("argus")
    app.config["MAX_CONTENT_LENGTH"] = int(settings.max_body_mb * 1024 * 1024)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["argus"] = services
    serve_behind_proxies(app, settings.trusted_proxies)
    allow_origins(app, settings.cors_origins)

    @app.after_request
    def retry_after_only_when_refused(response: Response) -> Response:
        # Registered before the limiter's hook so it runs after it (Flask runs them in reverse):
        # flask-limiter stamps Retry-After on every response; it means "refused, come back".
        if response.status_code not in (429, 503):
            response.headers.pop("Retry-After", None)
        return response

    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.rate_limit_storage_uri,
        headers_enabled=True,
        enabled=settings.rate_limits_enabled,
        default_limits=[],
    )
    # The limit decorators hold only a weak reference to the limiter: the app must own it.
    app.extensions["argus_limiter"] = limiter
    routes = all_routes()
    by_endpoint = {route.endpoint: route for route in routes}
    for route in routes:
        view = limiter.limit(route.limit)(route.view) if route.limit else route.view
        app.add_url_rule(route.rule, route.endpoint, view, methods=[route.method])

    app.extensions["argus_openapi"] = build_openapi(routes)
    configure_sessions(
        app, services.api_key, settings.dashboard_session_hours, settings.dashboard_secure_cookie
    )
    app.register_blueprint(dashboard_blueprint(limiter))
    public = {name for name, route in by_endpoint.items() if route.public}
    if settings.metrics_public:
        public.add(metrics.metrics.__name__)

    @app.before_request
    def authenticate() -> Response | None:
        g.started = time.perf_counter()
        if request.method == "OPTIONS" and request.endpoint is not None:
            return Response(status=204)  # a CORS preflight carries no key; CORS adds headers
        if request.endpoint is None or request.endpoint in public or request.blueprint == "ui":
            return None  # the dashboard's pages check their session themselves
        presented = presented_key(request.headers)  # X-API-Key or Authorization: Bearer
        if keys_match(current_app.extensions["argus"].api_key, presented):
            return None
        verdict = check_session(request)  # the dashboard's cookie, instead of the header
        if verdict is SessionCheck.OK:
            return None
        if verdict is SessionCheck.CSRF:
            return respond(ErrorBody(detail=CSRF_REFUSED, status=403), 403)
        return respond(ErrorBody(detail=UNAUTHORIZED, status=401), 401)

    @app.after_request
    def log_request(response: Response) -> Response:
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.debug("%s %s %d %.1fms", request.method, request.path, response.status_code, elapsed)
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        code = exc.code or 500
        detail = exc.description or exc.name
        if code == 413:
            detail = f"request body exceeds the limit of {settings.max_body_mb:g} MB"
        elif code == 429:
            detail = f"rate limit exceeded: {exc.description}"
        # A 405 says which methods the path has (RFC 9110 requires Allow).
        allow = {k: v for k, v in exc.get_headers() if k == "Allow"}
        return respond(ErrorBody(detail=detail, status=code), code, allow)

    @app.errorhandler(ArgusError)
    def argus_error(exc: ArgusError) -> Response:
        if exc.http_status >= 500:
            log.error("%s on %s %s", exc.message, request.method, request.path)
        # Clients learn model names, never where the data directory is.
        detail = exc.message
        for home in {str(settings.home.resolve()), str(settings.home)}:
            detail = detail.replace(home, "<data dir>")
        return respond(ErrorBody(detail=detail, status=exc.http_status), exc.http_status)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return respond(ErrorBody(detail="internal error; see the daemon log", status=500), 500)

    return app


CORS_HEADERS = ["X-API-Key", "Authorization", "Content-Type"]
# Readable by browser code: rate-limit state, warm-up retry hints and export file names.
EXPOSED_HEADERS = [
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Content-Disposition",
]


def allow_origins(app: Flask, cors_origins: str) -> None:
    """CORS for the comma-separated origins (none: off): headers on every response, errors too."""
    origins = [o.strip() for o in cors_origins.split(",") if o.strip()]
    if origins:
        CORS(
            app,
            origins=origins,
            allow_headers=CORS_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            max_age=600,
        )


def serve_behind_proxies(app: Flask, hops: int) -> None:
    """Trust X-Forwarded-For/-Proto from `hops` reverse proxies, so rate limits count clients."""
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
