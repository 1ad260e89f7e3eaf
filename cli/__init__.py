"""The `argus` command line (imported as argus.cli)."""
