"""House rules that are cheap to check: import boundaries, laziness, one table per concept."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from argus.catalogue import PROFILES
from argus.thresholds import LEVELS, LOAD_THRESHOLDS, PROFILE_CORES, Level, level_for

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("argus", "cli", "daemon", "storage")


def python_files(folder: str) -> list[Path]:
    return [p for p in (ROOT / folder).rglob("*.py") if p.is_file() and not p.is_symlink()]


def imported_modules(path: Path) -> set[str]:
    """Every absolute module a file imports, anywhere in it (lazy imports too); for
    `from a.b import c` both `a.b` and `a.b.c` (c may be a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


# The model boundary: only the TFT's package imports its libraries, and only the forecasting
# package imports the TFT's (the rest of Argus reaches a model through argus.forecast.base).
MODEL_LIBRARIES = frozenset({"torch", "pytorch_forecasting", "lightning"})
TFT_PACKAGE = "argus.forecast.tft"
CORE_FORBIDDEN = frozenset({"flask", "flask_limiter", "waitress", "duckdb", "typer"})
# The window is gridded once (argus.grid.FleetGrid, FleetWindow.grid()): the daemon and the
# explanations read that grid and grid no frame of their own, except a backtest of the store.
FRAME_GRIDDERS = frozenset(
    {
        "argus.forecast.frame.to_grid",
        "argus.forecast.grid.bucket_frame",
        "argus.cascade.from_frame",
        "argus.cascade.cube.from_frame",
    }
)
STORE_READERS = frozenset({"daemon/promotion.py"})


def violations(path: Path, rel: Path) -> list[str]:
    """The house rules `path`, at `rel` in the repository (e.g. argus/explain/engine.py, or
    daemon/models.py for argus.daemon), breaks."""
    names = imported_modules(path)
    roots = {n.split(".")[0] for n in names}
    parts = rel.parts
    found = [f"imports the bare package {r}" for r in sorted(roots & {"cli", "daemon", "storage"})]
    if parts[0] != "storage" and "duckdb" in roots:
        found.append("speaks DuckDB outside storage/")
    if parts[0] == "argus" and parts[1:2] not in (("cli",), ("daemon",), ("storage",)):
        found += [f"core imports {r}" for r in sorted(roots & CORE_FORBIDDEN)]
    if parts[:3] != ("argus", "forecast", "tft"):
        found += [f"imports {r} outside {TFT_PACKAGE}" for r in sorted(roots & MODEL_LIBRARIES)]
    if parts[:2] != ("argus", "forecast"):
        tft = sorted(n for n in names if n == TFT_PACKAGE or n.startswith(TFT_PACKAGE + "."))
        outer = [n for n in tft if not any(n.startswith(m + ".") for m in tft)]  # one per import
        found += [f"imports {n} outside argus.forecast" for n in outer]
    reader = parts[0] == "daemon" or parts[:2] == ("argus", "explain")
    if reader and rel.as_posix() not in STORE_READERS:
        gridders = sorted(names & FRAME_GRIDDERS)
        found += [f"grids a frame ({n}), not the window's grid" for n in gridders]
    return found


def shipped_files() -> list[tuple[Path, Path]]:
    """(path, path relative to the repository) of every module Argus installs."""
    return [(p, p.relative_to(ROOT)) for folder in PACKAGES for p in python_files(folder)]


def core_files() -> list[Path]:
    core = ROOT / "argus"
    return [
        p
        for p in core.rglob("*.py")
        if not any(part in PACKAGES[1:] for part in p.relative_to(core).parts)
    ]


def test_every_module_keeps_the_house_rules() -> None:
    """No bare cli/daemon/storage imports, SQL (DuckDB) only in storage/, no Flask, DuckDB or
    typer in the core, torch & co. only in the TFT's package, which only argus.forecast imports,
    and the daemon and explanations read the window's grid rather than gridding frames."""
    broken = {str(rel): v for path, rel in shipped_files() if (v := violations(path, rel))}
    assert not broken, broken
    assert any(rel.parts[:3] == ("argus", "forecast", "tft") for _, rel in shipped_files())


def test_the_rules_catch_planted_violations(tmp_path: Path) -> None:
    def check(rel: str, source: str) -> list[str]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
        return violations(path, Path(rel))

    assert check("argus/explain/x.py", "def f():\n    import torch\n") == [
        "imports torch outside argus.forecast.tft"
    ]
    assert check("daemon/x.py", "from argus.forecast import tft\n") == [
        "imports argus.forecast.tft outside argus.forecast"
    ]
    assert check("cli/x.py", "from argus.forecast.tft.model import TFTForecaster\n") == [
        "imports argus.forecast.tft.model outside argus.forecast"
    ]
    assert check("argus/forecast/x.py", "import lightning.pytorch as pl\n") == [
        "imports lightning outside argus.forecast.tft"
    ]
    assert check("argus/risk_x.py", "import flask\nimport duckdb\n") == [
        "speaks DuckDB outside storage/",
        "core imports duckdb",
        "core imports flask",
    ]
    assert check("argus/x.py", "from daemon import app\n") == ["imports the bare package daemon"]
    assert check("daemon/x.py", "from argus.forecast.frame import to_grid\n") == [
        "grids a frame (argus.forecast.frame.to_grid), not the window's grid"
    ]
    assert check("argus/explain/x.py", "from argus.cascade import from_frame\n") == [
        "grids a frame (argus.cascade.from_frame), not the window's grid"
    ]
    # what the boundary allows
    assert check("argus/forecast/tft/x.py", "import torch\nfrom argus.forecast import base\n") == []
    assert check("argus/forecast/registry_x.py", "import argus.forecast.tft\n") == []
    assert check("storage/x.py", "import duckdb\n") == []


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
