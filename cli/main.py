"""The `argus` command: a typer app whose commands are thin functions.

Heavy libraries (torch, pandas, pytorch-forecasting) are imported inside the commands that need
them, so `argus --help` stays instant.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperOption

from argus.errors import ArgusError


def _flag_type(self: TyperOption, ctx: Any) -> str | None:
    """No type column for flags: typer 0.29 labels them `<bool>`, as if they took a value."""
    return None if self.is_flag else _option_type(self, ctx)


_option_type = TyperOption.display_type_rich
TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]

app = typer.Typer(
    name="argus",
    help="Predictive monitoring for server fleets: forecasts, risk, alerts, explanations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", envvar="ARGUS_CONFIG", help="TOML config file.", dir_okay=False),
]
HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="ARGUS_HOME", help="Data directory.", file_okay=False),
]


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(envvar="ARGUS_HOST", help="Address to listen on.")
    ] = None,
    port: Annotated[
        int | None, typer.Option(envvar="ARGUS_PORT", help="TCP port (0 picks a free one).")
    ] = None,
    config: ConfigOpt = None,
    home: HomeOpt = None,
    log_level: Annotated[
        str | None,
        typer.Option(envvar="ARGUS_LOG_LEVEL", help="DEBUG, INFO, WARNING or ERROR."),
    ] = None,
    enable_retraining: Annotated[
        bool | None,
        typer.Option(
            "--enable-retraining/--disable-retraining",
            envvar="ARGUS_ENABLE_RETRAINING",
            help="Retrain automatically when drift is detected (24 h cooldown).",
        ),
    ] = None,
) -> None:
    """Run the daemon in the foreground until SIGTERM or Ctrl-C."""
    from argus.config import load_settings
    from argus.daemon.service import run_daemon

    overrides = {
        "host": host,
        "port": port,
        "home": home,
        "log_level": log_level,
        "enable_retraining": enable_retraining,
    }
    settings = load_settings(overrides, config_file=config)
    raise typer.Exit(run_daemon(settings))


@app.command()
def keygen(
    home: HomeOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Create or rotate the API key file (.tachyon_key, mode 0600) and print the new key."""
    from argus.config import load_settings
    from argus.keys import key_file, new_key, write_key_file

    settings = load_settings({"home": home}, config_file=config)
    path = key_file(settings.home)
    key = new_key()
    write_key_file(path, key)
    typer.echo(key)
    typer.echo(f"written to {path}; restart the daemon to use it", err=True)


from argus.cli import admin_cmds, daemon_cmds  # noqa: E402

daemon_cmds.register(app)
admin_cmds.register(app)

from argus.cli import model_cmds  # noqa: E402

model_cmds.register(app)

from argus.cli import simulate_cmds  # noqa: E402

simulate_cmds.register(app)

from argus.cli import explain_cmds  # noqa: E402

explain_cmds.register(app)

from argus.cli import agent_cmds  # noqa: E402

agent_cmds.register(app)

from argus.cli import maintenance_cmds  # noqa: E402

maintenance_cmds.register(app)


def main() -> None:
    """Console-script entry point: the one place Argus errors become exit codes."""
    try:
        app()
    except ArgusError as exc:
        typer.echo(f"argus: {exc.message}", err=True)
        sys.exit(exc.exit_status)
    except OSError as exc:  # a data dir or file we cannot use: say which, no traceback
        typer.echo(f"argus: {exc.strerror or exc}: {exc.filename or ''}", err=True)
        sys.exit(1)
