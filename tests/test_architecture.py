"""House rules that are cheap to check: import boundaries, laziness, one table per concept."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from argus.catalogue import PROFILES
from argus.thresholds import LEVELS, LOAD_THRESHOLDS, PROFILE_CORES, Level, level_for

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("argus", "cli", "daemon", "storage")


def python_files(folder: str) -> list[Path]:
    return [p for p in (ROOT / folder).rglob("*.py") if p.is_file() and not p.is_symlink()]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def core_files() -> list[Path]:
    core = ROOT / "argus"
    return [
        p
        for p in core.rglob("*.py")
        if not any(part in PACKAGES[1:] for part in p.relative_to(core).parts)
    ]


@pytest.mark.parametrize("folder", PACKAGES)
def test_bare_cli_daemon_storage_are_never_imported(folder) -> None:
    for path in python_files(folder):
        roots = {name.split(".")[0] for name in imported_modules(path)}
        assert not roots & {"cli", "daemon", "storage"}, path


def test_only_storage_speaks_duckdb() -> None:
    for folder in ("argus", "cli", "daemon"):
        for path in python_files(folder):
            if "storage" in path.relative_to(ROOT).parts:
                continue
            assert "duckdb" not in {n.split(".")[0] for n in imported_modules(path)}, path


def test_core_is_free_of_flask_duckdb_and_typer() -> None:
    for path in core_files():
        roots = {n.split(".")[0] for n in imported_modules(path)}
        assert not roots & {"flask", "flask_limiter", "waitress", "duckdb", "typer"}, path


def test_cli_import_loads_neither_torch_nor_pandas() -> None:
    code = (
        "import sys, argus.cli.main; "
        "heavy = ('torch', 'pandas', 'pytorch_forecasting', 'lightning'); "
        "bad = [m for m in heavy if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_load_thresholds_cover_every_profile_and_match_the_simulator() -> None:
    from argus.simulate.profiles import PROFILE_SPECS

    assert set(LOAD_THRESHOLDS) == set(PROFILES)
    assert {p: spec.cores for p, spec in PROFILE_SPECS.items()} == PROFILE_CORES


def test_levels_table_covers_every_level_and_bands_are_ordered() -> None:
    assert set(LEVELS) == set(Level)
    assert [level_for(s) for s in (100, 80, 79.9, 60, 59.9, 50, 49.9, 0)] == [
        Level.CRITICAL,
        Level.CRITICAL,
        Level.WARNING,
        Level.WARNING,
        Level.DEGRADED,
        Level.DEGRADED,
        Level.HEALTHY,
        Level.HEALTHY,
    ]
    assert LEVELS[Level.WARNING].label(Level.WARNING) == "🟠 Warning"
