"""Rich output for people, JSON for scripts. Colour only on a terminal (never under cron)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from argus.thresholds import LEVELS, Level

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


def console() -> Console:
    """A console on stdout; rich leaves out colour codes when stdout is not a terminal."""
    from rich.console import Console

    return Console(highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    level_column: int | None = None,
) -> Table:
    """A table; with `level_column`, that column is coloured by the level's colour."""
    from rich.table import Table

    out = Table(title=title, title_justify="left")
    for name in columns:
        out.add_column(name)
    for row in rows:
        cells = list(row)
        if level_column is not None and cells[level_column] in Level.__members__.values():
            color = LEVELS[Level(cells[level_column])].color
            cells[level_column] = f"[{color}]{cells[level_column]}[/]"
        out.add_row(*cells)
    return out
