"""Explanations of one server's forecast and risk, computed from the model that serves it.

Entry point: `argus.explain.engine.explain_server`; the daemon caches results in an
`argus.explain.cache.ExplanationCache` (see docs/explain.md for the method). The package
imports no Flask, DuckDB or typer, and this module imports nothing, so importing the cache
stays light; a model that can interpret itself does so behind `argus.forecast.base.Interpretable`.
"""
