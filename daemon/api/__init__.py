"""Route tables of the HTTP API, one module per area."""
