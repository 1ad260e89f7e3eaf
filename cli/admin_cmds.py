"""Commands for drift and model administration: drift, models, reload-model, training."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from argus.cli.connect import ConfigOpt, HomeOpt, JsonOpt, UrlOpt, connect
from argus.cli.render import console, print_json, table


def _show(data: Any, as_json: bool, title: str, rows: list[tuple[str, str]]) -> None:
    if as_json:
        print_json(data)
    else:
        console().print(table(title, ["field", "value"], rows))


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


def drift(
    url: UrlOpt = None,
    home: HomeOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    report: Annotated[
        bool,
        typer.Option(
            "--report",
            envvar="ARGUS_DRIFT_REPORT",
            help="The detailed report with recommendations.",
        ),
    ] = False,
) -> None:
    """Show the serving model's drift (PER, DSS, FDS, anomaly rate)."""
    client = connect(url, home, config)
    if report:
        data = client.get("/drift/report")
        rows = [
            (name, f"{_text(m['value'])} / {m['threshold']} ({m['status']})")
            for name, m in data["metrics"].items()
        ]
        rows += [
            (f"feature {k}", f"{v['drift']} ({v['status']})")
            for k, v in data["feature_drift"].items()
        ]
        rows += [("recommendation", r) for r in data["recommendations"]]
        return _show(data, as_json, f"drift report: {data['overall_health']}", rows)
    data = client.get("/drift/status")
    rows = [(k, f"{_text(v)} / {data['thresholds'][k]}") for k, v in data["metrics"].items()]
    rows += [
        ("drift_detected", str(data["drift_detected"])),
        ("model", data["model"]),
        ("checked_at", _text(data["checked_at"])),
        ("next_check", _text(data["next_check"])),
    ]
    _show(data, as_json, "drift", rows)


def models(
    url: UrlOpt = None, home: HomeOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False
) -> None:
    """List the models in the daemon's models directory."""
    data = connect(url, home, config).get("/admin/models")
    if as_json:
        return print_json(data)
    rows = [
        (
            m["name"],
            "yes" if m["serving"] else "",
            "yes" if m["current"] else "",
            _text(m["created_at"]),
            _text((m["data_range"] or {}).get("end")),
        )
        for m in data["models"]
    ]
    console().print(
        table(
            f"models (serving: {data['serving']})",
            ["name", "serving", "current", "created", "data until"],
            rows,
        )
    )


def reload_model(
    name: Annotated[
        str | None, typer.Argument(help="Model name (default: the current one).")
    ] = None,
    url: UrlOpt = None,
    home: HomeOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Hot-swap the serving model; on failure the old model keeps serving."""
    data = connect(url, home, config).post("/admin/reload-model", model_path=name)
    _show(data, as_json, "reloaded", [("model", data["model"]), ("path", data["model_path"])])


def _training_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    keys = (
        "status",
        "id",
        "reason",
        "epoch",
        "total_epochs",
        "percent",
        "eta_minutes",
        "train_loss",
        "val_loss",
        "detail",
    )
    return [(k, _text(data.get(k))) for k in keys]


def trigger_training(
    epochs: Annotated[
        int | None,
        typer.Option(envvar="ARGUS_EPOCHS", min=1, help="Epochs (default: retrain_epochs)."),
    ] = None,
    incremental: Annotated[
        bool, typer.Option(envvar="ARGUS_INCREMENTAL", help="Continue the current model's weights.")
    ] = False,
    url: UrlOpt = None,
    home: HomeOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Start a training run in the daemon (a child process; promoted only if better)."""
    data = connect(url, home, config).post(
        "/admin/trigger-training", epochs=epochs, incremental=str(incremental).lower()
    )
    _show(data, as_json, "training started", _training_rows(data))


def training_status(
    url: UrlOpt = None,
    home: HomeOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    watch: Annotated[
        bool,
        typer.Option(envvar="ARGUS_WATCH", help="Refresh until the run ends (or Ctrl-C)."),
    ] = False,
    interval: Annotated[
        float,
        typer.Option(
            envvar="ARGUS_INTERVAL", min=0.5, help="Seconds between refreshes with --watch."
        ),
    ] = 5.0,
) -> None:
    """Show the current or last training run (epoch, percent, ETA); --watch follows it."""
    client = connect(url, home, config)
    data = client.get("/admin/training-status")
    if not watch or as_json:
        return _show(data, as_json, "training", _training_rows(data))
    from rich.live import Live

    with Live(_training_table(data), console=console(), auto_refresh=False) as live:
        try:
            while data["live"]:
                time.sleep(interval)
                data = client.get("/admin/training-status")
                live.update(_training_table(data), refresh=True)
        except KeyboardInterrupt:
            return None
    return None


def _training_table(data: dict[str, Any]) -> Any:
    return table(f"training: {data['status']}", ["field", "value"], _training_rows(data))


def cancel_training(
    url: UrlOpt = None, home: HomeOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False
) -> None:
    """Stop the running training; the serving model keeps serving."""
    data = connect(url, home, config).post("/admin/cancel-training")
    _show(data, as_json, "training", _training_rows(data))


def register(app: typer.Typer) -> None:
    app.command()(drift)
    app.command()(models)
    app.command("reload-model")(reload_model)
    app.command("trigger-training")(trigger_training)
    app.command("training-status")(training_status)
    app.command("cancel-training")(cancel_training)
