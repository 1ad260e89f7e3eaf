"""`argus simulate`, `argus demo` and `argus scenario`: the simulated fleet from the command line.

numpy, pandas and requests are imported inside the commands so `argus --help` stays instant.
"""

from __future__ import annotations

import os
import sys
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
    port: Annotated[
        int, typer.Option(envvar="ARGUS_PORT", min=0, max=65535, help="0 picks a free port.")
    ] = 8000,
    servers: Annotated[int, typer.Option(envvar="ARGUS_DEMO_SERVERS", min=1)] = 45,
    backfill_days: Annotated[
        float,
        typer.Option(
            envvar="ARGUS_DEMO_BACKFILL_DAYS",
            min=0,
            help="Days of simulated history sent before the live ticks (8: the same time on "
            "each of the last 7 days exists from the start).",
        ),
    ] = 8.0,
    speed: Annotated[
        float,
        typer.Option(
            envvar="ARGUS_DEMO_SPEED",
            min=0.001,
            help="How much faster than the wall clock the data clock runs (60: one 5-minute "
            "sample per server every 5 s).",
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
            help="Train a TFT on the backfill first, the network for up to this many minutes "
            "(then calibration and scoring: about 2 minutes in all with the defaults on 2 idle "
            "cores, 8.5 on 2 busy ones; 0: serve the seasonal-naive fallback).",
        ),
    ] = 2.0,
) -> None:
    """Train a TFT on a simulated fleet's history, start a daemon and stream live ticks into it."""
    from argus.simulate.demo import DemoError, DemoOptions, argus_command, run_demo

    with ExitStack() as stack:
        temporary = home is None
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
            argus_cmd=argus_command(sys.argv[0]),
        )
        try:
            status = run_demo(opts, typer.echo, temporary)
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
            envvar="ARGUS_HOME",
            file_okay=False,
            help="Data directory of the running demo (default: the demo running for this user).",
        ),
    ] = None,
) -> None:
    """Ask a running `argus demo` to switch scenario at its next tick (exit 1 if none runs)."""
    from argus.simulate.scenario import ScenarioRequest, write_request

    path = write_request(_demo_home(home), ScenarioRequest(name.value, server))
    typer.echo(f"scenario {name.value} requested: the demo applies it at its next tick ({path})")


def _demo_home(home: Path | None) -> Path:
    """The data directory of the running demo: --home if a daemon runs there, else the demo's."""
    from argus.runtime import running_demo

    if home is not None:
        if not (home / "argus.runtime.json").exists():
            typer.echo(f"argus: no demo is running with data directory {home}", err=True)
            raise typer.Exit(1)
        return home
    demo = running_demo(os.environ)
    if demo is None:
        typer.echo(
            "argus: no running demo found: start one with `argus demo`, or pass the --home of "
            "a demo started with --home",
            err=True,
        )
        raise typer.Exit(1)
    return Path(demo.home)


def register(app: typer.Typer) -> None:
    """Add the simulator commands to the `argus` app."""
    app.command()(simulate)
    app.command()(demo)
    app.command()(scenario)
