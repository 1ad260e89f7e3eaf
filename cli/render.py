"""Rich output for people, JSON for scripts. Colour only on a terminal (never under cron)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from argus.thresholds import LEVELS, Level

if TYPE_CHECKING:
    from rich.console import Console, RenderableType


def console() -> Console:
    """A console on stdout; rich leaves out colour codes when stdout is not a terminal.

    Piped or redirected output gets a wide page, so nothing (a model name, a message) is cut
    to the 80 columns rich assumes when there is no terminal to ask.
    """
    from rich.console import Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else PIPE_WIDTH)


PIPE_WIDTH = 400


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    level_column: int | None = None,
    empty: str | None = None,
) -> RenderableType:
    """A titled table; with `level_column`, that column is coloured by the level's colour.

    The title is a line of its own (a table's title wraps at the table's width); with `empty`,
    a table without rows is that sentence instead.
    """
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    heading = Text(title, style="bold")
    if not rows and empty is not None:
        return Group(heading, Text(empty))
    out = Table(show_header=any(columns))  # a two-column list of facts needs no header
    for name in columns:
        out.add_column(name)
    for row in rows:
        cells = list(row)
        if level_column is not None and cells[level_column] in Level.__members__.values():
            color = LEVELS[Level(cells[level_column])].color
            cells[level_column] = f"[{color}]{cells[level_column]}[/]"
        out.add_row(*cells)
    return Group(heading, out)
