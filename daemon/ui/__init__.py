"""The built-in web dashboard: a Flask blueprint with its templates and static files."""
