"""`argus simulate`, `argus demo` and `argus scenario`: the simulated fleet from the command line.

numpy, pandas and requests are imported inside the commands so `argus --help` stays instant.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_RATE = 0.08  # incidents per server per day; argus.simulate.IncidentRates' default


class DatasetFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"


class ScenarioName(StrEnum):
    healthy = "healthy"
    degrading = "degrading"
    critical = "critical"
    cascade = "cascade"


def simulate(
    out: Annotated[
        Path, typer.Option(envvar="ARGUS_SIM_OUT", help="Directory to write into.", file_okay=False)
    ],
    servers: Annotated[int, typer.Option(envvar="ARGUS_SIM_SERVERS", min=1)] = 45,
    days: Annotated[float, typer.Option(envvar="ARGUS_SIM_DAYS", min=0.01)] = 14.0,
    seed: Annotated[int, typer.Option(envvar="ARGUS_SIM_SEED")] = 0,
    fmt: Annotated[
        DatasetFormat, typer.Option("--format", envvar="ARGUS_SIM_FORMAT")
    ] = DatasetFormat.parquet,
    incident_rate: Annotated[
        float,
        typer.Option(
            envvar="ARGUS_SIM_INCIDENT_RATE", min=0.0, help="Incidents per server per day."
        ),
    ] = DEFAULT_RATE,
    cascade_probability: Annotated[
        float,
        typer.Option(
            envvar="ARGUS_SIM_CASCADE_PROBABILITY",
            min=0.0,
            max=1.0,
            help="Share of upstream incidents that spread to dependents.",
        ),
    ] = 0.6,
) -> None:
    """Write a simulated fleet dataset (metrics in the feed schema plus labels.json)."""
    from argus.simulate import IncidentRates, simulate_fleet
    from argus.simulate.dataset import write_dataset

    rates = IncidentRates(per_server_day=incident_rate, cascade_probability=cascade_probability)
    sim = simulate_fleet(servers=servers, days=days, seed=seed, rates=rates)
    paths = write_dataset(sim, out, fmt.value)
    typer.echo(
        f"{len(sim.block.steps) * servers} records, {len(sim.labels.incidents)} incidents, "
        f"{len(sim.labels.cascades)} cascades -> {paths['metrics']}, {paths['labels']}"
    )


def demo(
    home: Annotated[
        Path | None,
        typer.Option(
            envvar="ARGUS_HOME",
            file_okay=False,
            help="Data directory (default: a temporary one, removed at exit).",
        ),
    ] = None,
    port: Annotated[int, typer.Option(envvar="ARGUS_PORT", min=0, max=65535)] = 8000,
    servers: Annotated[int, typer.Option(envvar="ARGUS_DEMO_SERVERS", min=1)] = 45,
    backfill_days: Annotated[float, typer.Option(envvar="ARGUS_DEMO_BACKFILL_DAYS", min=0)] = 3.0,
    speed: Annotated[
        float,
        typer.Option(
            envvar="ARGUS_DEMO_SPEED",
            min=0.001,
            help="Simulated 5-minute ticks per 5 minutes of wall clock (60: a tick every 5 s).",
        ),
    ] = 60.0,
    seed: Annotated[int, typer.Option(envvar="ARGUS_DEMO_SEED")] = 0,
    incident_rate: Annotated[
        float, typer.Option(envvar="ARGUS_DEMO_INCIDENT_RATE", min=0.0)
    ] = DEFAULT_RATE,
    train_minutes: Annotated[
        float,
        typer.Option(
            envvar="ARGUS_DEMO_TRAIN_MINUTES",
            min=0.0,
            help="Train a TFT on the backfill first (0: serve the seasonal-naive fallback).",
        ),
    ] = 2.0,
) -> None:
    """Train a TFT on a simulated fleet's history, start a daemon and stream live ticks into it."""
    from argus.simulate.demo import DemoError, DemoOptions, run_demo

    with ExitStack() as stack:
        if home is None:
            home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="argus-demo-")))
        opts = DemoOptions(
            home=home,
            port=port,
            servers=servers,
            backfill_days=backfill_days,
            speed=speed,
            seed=seed,
            incident_rate=incident_rate,
            train_minutes=train_minutes,
        )
        try:
            status = run_demo(opts, typer.echo)
        except DemoError as exc:
            typer.echo(f"argus: {exc}", err=True)
            raise typer.Exit(1) from None
    raise typer.Exit(0 if status in (0, -15) else 1)


def scenario(
    name: Annotated[ScenarioName, typer.Argument(envvar="ARGUS_SCENARIO", help="What to inject.")],
    server: Annotated[
        str | None, typer.Option(envvar="ARGUS_SCENARIO_SERVER", help="Server to hit.")
    ] = None,
    home: Annotated[
        Path | None,
        typer.Option(
            envvar="ARGUS_HOME", file_okay=False, help="Data directory of the running demo."
        ),
    ] = None,
) -> None:
    """Ask a running `argus demo` to switch scenario at its next tick."""
    from argus.config import default_home
    from argus.simulate.scenario import ScenarioRequest, write_request

    path = write_request(home or default_home(os.environ), ScenarioRequest(name.value, server))
    typer.echo(f"scenario {name.value} requested: {path}")


def register(app: typer.Typer) -> None:
    """Add the simulator commands to the `argus` app."""
    app.command()(simulate)
    app.command()(demo)
    app.command()(scenario)
