"""One error hierarchy: each error knows its HTTP status and the CLI's exit status."""

from __future__ import annotations


class ArgusError(Exception):
    """Base of every error Argus raises on purpose."""

    http_status = 500
    exit_status = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(ArgusError):
    """Settings or the config file are invalid."""

    http_status = 500
    exit_status = 2


class StoreLockedError(ArgusError):
    """Another process (usually a running daemon) holds the DuckDB file."""

    http_status = 503
    exit_status = 1


class NotFoundError(ArgusError):
    http_status = 404


class InvalidInputError(ArgusError):
    http_status = 400
    exit_status = 2
