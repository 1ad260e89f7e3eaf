"""`argus train` and `argus backtest`: the model commands (run offline, on a file or the DB).

torch, pandas and pytorch-forecasting are imported inside the command bodies only, so that
`import argus.cli.main` stays instant.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from argus.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

    from argus.config import Settings
    from argus.forecast.backtest import BacktestReport

DataOpt = Annotated[
    Path | None,
    typer.Option(
        "--data",
        envvar="ARGUS_DATA",
        dir_okay=False,
        exists=True,
        help="Feed-schema CSV (.gz ok) or Parquet file instead of the database.",
    ),
]
DbOpt = Annotated[
    Path | None,
    typer.Option(
        "--db",
        envvar="ARGUS_DB",
        dir_okay=False,
        help="DuckDB history to read (default: argus.duckdb in the data directory).",
    ),
]
HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="ARGUS_HOME", file_okay=False, help="Data directory."),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", envvar="ARGUS_CONFIG", dir_okay=False, help="TOML config file."),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", envvar="ARGUS_JSON", help="Print JSON for scripts.")
]
ThreadsOpt = Annotated[
    int | None,
    typer.Option("--torch-threads", envvar="ARGUS_TORCH_THREADS", min=1, help="torch threads."),
]


def _setup(
    home: Path | None, config: Path | None, threads: int | None, kind: str | None = None
) -> Settings:
    """Settings, and the threads of the model kinds this command runs (all when `kind` is None;
    the TFT's also quiets its libraries, whose banners are not for CLI users)."""
    from argus.config import load_settings
    from argus.forecast import registry
    settings = load_settings({"home": home, "torch_threads": threads}, config_file=config)
    # the TFT's also silences its libraries' banners and warnings (argus.forecast.tft.quiet)
    registry.set_threads(settings.torch_threads, None if kind is None else (kind,))
    return settings


def _load_frame(data: Path | None, db: Path | None, settings: Settings) -> pd.DataFrame:
    """The feed-schema history: from --data, else from the DuckDB file (read-only)."""
    if data is not None:
        from argus.forecast.frame import read_feed_file

        return read_feed_file(data)
    from argus.storage.metrics import read_metrics_frame
    from argus.storage.store import DB_FILE_NAME, Store

    path = db or settings.home / DB_FILE_NAME
    if not path.exists():
        raise InvalidInputError(f"no database at {path}; pass --data FILE or --db PATH")
    store = Store.open(path, read_only=True)
    try:
        return read_metrics_frame(store)
    finally:
        store.close()


def train(
    data: DataOpt = None,
    db: DbOpt = None,
    home: HomeOpt = None,
    config: ConfigOpt = None,
    name: Annotated[
        str | None,
        typer.Option(envvar="ARGUS_MODEL_NAME", help="Model name (default <kind>-<utc>)."),
    ] = None,
    kind: Annotated[
        str,
        typer.Option(
            envvar="ARGUS_MODEL_KIND",
            help="Model kind: tft (Temporal Fusion Transformer, one network for the fleet) or "
            "ets (damped-trend exponential smoothing of each server's metrics around their "
            "daily profile; no torch).",
        ),
    ] = "tft",
    model_config: Annotated[
        Path | None,
        typer.Option(
            envvar="ARGUS_MODEL_CONFIG",
            exists=True,
            dir_okay=False,
            help="JSON object of the kind's settings (as metadata.json's \"config\" records "
            "them); the options below override it.",
        ),
    ] = None,
    epochs: Annotated[int, typer.Option(envvar="ARGUS_EPOCHS", min=1, help="Epochs.")] = 10,
    max_minutes: Annotated[
        float,
        typer.Option(
            envvar="ARGUS_MAX_MINUTES",
            min=0.1,
            help="Time cap for training: the network trains for 90 % of it, then the blend and "
            "calibration are learnt.",
        ),
    ] = 10.0,
    patience: Annotated[
        int,
        typer.Option(
            envvar="ARGUS_PATIENCE",
            min=1,
            help="Epochs without improvement on the validation part (the last 15 % of the time "
            "range) before training stops early.",
        ),
    ] = 4,
    seed: Annotated[int, typer.Option(envvar="ARGUS_SEED", help="Random seed.")] = 42,
    incremental: Annotated[
        bool,
        typer.Option(envvar="ARGUS_INCREMENTAL", help="Continue the current model's weights."),
    ] = False,
    activate: Annotated[
        bool, typer.Option(envvar="ARGUS_ACTIVATE", help="Make the new model current.")
    ] = True,
    hidden_size: Annotated[
        int | None,
        typer.Option(envvar="ARGUS_HIDDEN_SIZE", min=2, help="TFT hidden size [default: 16]."),
    ] = None,
    batches_per_epoch: Annotated[
        int | None,
        typer.Option(
            envvar="ARGUS_BATCHES_PER_EPOCH", min=1, help="TFT batches per epoch [default: 40]."
        ),
    ] = None,
    seasonal_target: Annotated[
        bool | None,
        typer.Option(
            "--seasonal-target/--level-target",
            envvar="ARGUS_SEASONAL_TARGET",
            help="TFT: forecast each metric's departure from its usual level at that time (the "
            "median of the same time on the last 7 days; the default), or its level (for servers "
            "without a daily rhythm).",
        ),
    ] = None,
    torch_threads: ThreadsOpt = None,
    as_json: JsonOpt = False,
    progress_file: Annotated[
        Path | None,
        typer.Option(
            envvar="ARGUS_PROGRESS_FILE",
            dir_okay=False,
            help="Also append each progress report to this file as a JSON line.",
        ),
    ] = None,
) -> None:
    """Train a model (default: the TFT) on the history (or a file); save it in
    <home>/models/<name>/."""
    from argus.forecast import registry

    registry.get(kind)  # an unknown kind fails before the data is read
    settings = _setup(home, config, torch_threads, kind)
    from argus.forecast.artifacts import models_dir_for
    from argus.forecast.base import TrainOptions
    from argus.forecast.training import train_model

    tft_flags = {
        "hidden_size": hidden_size,
        "batches_per_epoch": batches_per_epoch,
        "seasonal_target": seasonal_target,
    }
    cfg = _model_config(model_config, kind, {k: v for k, v in tft_flags.items() if v is not None})
    frame = _load_frame(data, db, settings)
    batches = int(cfg.get("batches_per_epoch", 40))  # until the first report says
    with _progress_bar(epochs, batches, quiet=as_json, log=progress_file) as report:
        options = TrainOptions(
            epochs=epochs, max_minutes=max_minutes, seed=seed, patience=patience, progress=report
        )
        result = train_model(
            frame,
            models_dir=models_dir_for(settings.home),
            name=name,
            kind=kind,
            config=cfg,
            options=options,
            incremental=incremental,
            activate=activate,
        )
    summary = {
        "name": result.name,
        "path": str(result.path),
        "current": result.activated,
        "training": result.metadata["training"],
        "backtest": result.metadata.get("backtest", {}),
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    t = summary["training"]
    typer.echo(
        f"saved model {result.name} ({t['epochs_run']} epochs, {t['seconds']:.0f} s, "
        f"best validation loss {t['best_val_loss']}) to {result.path}"
        + ("; now current" if result.activated else "")
    )
    if summary["backtest"]:
        from argus.forecast.backtest import BacktestReport

        report_rows = tuple(summary["backtest"]["results"])
        _print_report(BacktestReport((), tuple(summary["backtest"]["origins"]), report_rows))


def _model_config(path: Path | None, kind: str, tft_flags: dict[str, Any]) -> dict[str, Any]:
    """The kind's settings: the --model-config file's object, overridden by the TFT flags."""
    cfg: dict[str, Any] = {}
    if path is not None:
        try:
            cfg = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInputError(f"--model-config {path}: not readable JSON: {exc}") from exc
        if not isinstance(cfg, dict):
            raise InvalidInputError(f"--model-config {path}: a JSON object is required")
    if tft_flags and kind != "tft":
        flags = ", ".join("--" + k.replace("_", "-") for k in tft_flags)
        raise InvalidInputError(f"{flags}: TFT settings, not for --kind {kind}")
    return {**cfg, **tft_flags}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


class _progress_bar:  # noqa: N801 - used like a function in a with statement
    """A rich progress bar fed by TrainProgress reports (epoch, loss, ETA)."""

    def __init__(self, epochs: int, batches: int, *, quiet: bool, log: Path | None = None) -> None:
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.quiet = quiet
        self.progress = Progress(
            TextColumn("epoch {task.fields[epoch]}"),
            BarColumn(),
            TextColumn("loss {task.fields[loss]}  val {task.fields[val]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            disable=quiet,
        )
        self.task = self.progress.add_task(
            "train", total=epochs * batches, epoch=f"0/{epochs}", loss="-", val="-"
        )
        self.batches = batches
        # The daemon follows a training child through this file (/admin/training-status).
        self.log = None if log is None else open(log, "a", encoding="utf-8")  # noqa: SIM115

    def __call__(self, event: Any) -> None:
        if self.log is not None:
            self.log.write(json.dumps(dataclasses.asdict(event)) + "\n")
            self.log.flush()
        # the kind's reports say how much work there is (the ETS kind: one batch per target)
        self.batches = event.batches_per_epoch or self.batches
        done = (event.epoch - 1) * self.batches + event.batch
        self.progress.update(
            self.task,
            total=event.max_epochs * self.batches,
            completed=done,
            epoch=f"{event.epoch}/{event.max_epochs}",
            loss=_fmt(event.train_loss),
            val=_fmt(event.val_loss),
        )

    def __enter__(self) -> _progress_bar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()
        if self.log is not None:
            self.log.close()


def backtest(
    data: DataOpt = None,
    db: DbOpt = None,
    home: HomeOpt = None,
    config: ConfigOpt = None,
    horizons: Annotated[
        str, typer.Option(envvar="ARGUS_HORIZONS", help="Comma list, e.g. 1h,8h or 30m.")
    ] = "1h,8h",
    model: Annotated[
        str | None, typer.Option(envvar="ARGUS_MODEL", help="Model name (default: current).")
    ] = None,
    days: Annotated[
        float,
        typer.Option(envvar="ARGUS_BACKTEST_DAYS", min=0.01, help="Evaluate the last N days."),
    ] = 2.0,
    every: Annotated[
        str, typer.Option(envvar="ARGUS_BACKTEST_EVERY", help="Origin spacing, e.g. 6h.")
    ] = "6h",
    torch_threads: ThreadsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Rolling-origin backtest of a saved model, as served, against naive and seasonal naive."""
    settings = _setup(home, config, torch_threads)
    from argus.forecast import artifacts
    from argus.forecast.backtest import backtest as run_backtest
    from argus.forecast.backtest import parse_horizons, rolling_origins
    from argus.forecast.baseline import Naive, SeasonalNaive
    from argus.forecast.frame import DAY_STEPS, to_grid

    steps = parse_horizons(horizons)
    spacing = parse_horizons(every)[0]
    grid = to_grid(_load_frame(data, db, settings))
    if grid.empty:
        raise InvalidInputError("no samples to backtest")
    models_dir = artifacts.models_dir_for(settings.home)
    forecasters: dict[str, Any] = {}
    name = model or artifacts.current_name(models_dir)
    if name is not None:
        from argus.forecast.serving import ServingForecaster

        # as the daemon serves it: combined, calibrated, learning from the earlier origins
        loaded = artifacts.load_model(models_dir, name)
        forecasters[loaded.kind] = ServingForecaster(loaded)
    forecasters.update(naive=Naive(), seasonal_naive=SeasonalNaive())
    first = max(
        int(grid["time_idx"].max()) - int(days * DAY_STEPS) + 1, int(grid["time_idx"].min()) + 1
    )
    origins = rolling_origins(grid, first, spacing, max(steps))
    if not origins:
        raise InvalidInputError("the data is too short for these horizons and --days")
    report = run_backtest(grid, forecasters, steps, origins)
    if as_json:
        typer.echo(json.dumps({"model": name, **report.to_json()}, indent=2))
        return
    if name is None:
        typer.echo("no trained model: showing the baselines only", err=True)
    _print_report(report)


def _print_report(report: BacktestReport) -> None:
    from rich.table import Table

    from argus.cli.render import console

    table = Table(title=f"Backtest ({len(report.origins)} origins)")
    for col in ("target", "horizon", "model", "MAE", "MASE", "pinball", "P10–P90 cov", "n"):
        table.add_column(col, justify="left" if col in ("target", "horizon", "model") else "right")
    rows = sorted(report.rows, key=lambda r: (r["target"], _minutes(r["horizon"]), r["model"]))
    for r in rows:
        table.add_row(
            r["target"],
            r["horizon"],
            r["model"],
            f"{r['mae']:.3f}",
            f"{r['mase']:.3f}",
            f"{r['pinball']:.3f}",
            f"{r['coverage']:.2f}",
            str(r["n"]),
        )
    console().print(table)  # piped: wide, so model names are not cut


def _minutes(label: str) -> int:
    return int(label[:-1]) * (60 if label.endswith("h") else 1)


def register(app: typer.Typer) -> None:
    """Add the model commands to the `argus` app."""
    app.command()(train)
    app.command()(backtest)
