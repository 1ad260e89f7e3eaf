"""The rate limits of the REST guide, in one table."""

from __future__ import annotations

# Route rule -> flask-limiter limit. Admin routes share ADMIN_LIMIT (DESIGN.md §7).
RATE_LIMITS: dict[str, str] = {
    "/feed/data": "60/minute",
    "/predictions/current": "30/minute",
    "/alerts/active": "30/minute",
    "/explain/<server_name>": "30/minute",
    "/cascade/status": "30/minute",
    "/cascade/health": "60/minute",
    "/drift/status": "30/minute",
    "/drift/report": "10/minute",
    # Not in the guide: exports scan whole tables, so they share the admin budget.
    "/historical/export/<table>": "10/minute",
}
ADMIN_LIMIT = "10/minute"
