"""The long-running Argus daemon: HTTP API, ingest, scheduler (imported as argus.daemon)."""
