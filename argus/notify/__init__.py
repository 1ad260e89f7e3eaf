"""Pure payload builders for the places alerts go: Alertmanager's v2 API and signed webhooks."""
