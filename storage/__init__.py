"""DuckDB storage: the only package that speaks SQL (imported as argus.storage)."""
