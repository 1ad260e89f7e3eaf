"""Commands that read a running daemon over HTTP: status, alerts, predictions, history, export."""

from __future__ import annotations

import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from argus.cli.connect import ConfigOpt, HomeOpt, JsonOpt, UrlOpt, connect
from argus.cli.render import console, print_json, table


class TimeRangeOpt(StrEnum):
    m30 = "30m"
    h1 = "1h"
    h8 = "8h"
    d1 = "1d"
    w1 = "1w"
    mo1 = "1M"


class ExportTable(StrEnum):
    alerts = "alerts"
    environment = "environment"
    metrics = "metrics"
    predictions = "predictions"


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"
    json = "json"


RangeOpt = Annotated[
    TimeRangeOpt, typer.Option("--range", envvar="ARGUS_RANGE", help="Time range.")
]


def status(
    url: UrlOpt = None, home: HomeOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False
) -> None:
    """Show the daemon's status."""
    data = connect(url, home, config).get("/status")
    if as_json:
        return print_json(data)
    rows = [(key, "-" if value is None else str(value)) for key, value in data.items()]
    title = f"Argus daemon, data time {_text(data.get('data_time'))}"
    console().print(table(title, ["field", "value"], rows))


def _alerts_table(data: dict[str, Any]) -> Any:
    rows = [
        (
            a["server_name"],
            a["level"],
            f"{a['risk_score']:.1f}",
            a["profile"],
            a["time_to_issue"] or "-",
            a["message"],
        )
        for a in data["alerts"]
    ]
    title = f"{data['count']} active alert(s) at {data['timestamp']}"
    return table(
        title,
        ["server", "level", "risk", "profile", "time to issue", "message"],
        rows,
        level_column=1,
        empty="No active alerts.",
    )


def alerts(
    url: UrlOpt = None,
    home: HomeOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    watch: Annotated[
        bool, typer.Option(envvar="ARGUS_WATCH", help="Refresh until Ctrl-C.")
    ] = False,
    interval: Annotated[
        float,
        typer.Option(
            envvar="ARGUS_INTERVAL", min=1.0, help="Seconds between refreshes with --watch."
        ),
    ] = 10.0,
) -> None:
    """List active alerts (exit status 0 whether or not there are any)."""
    client = connect(url, home, config)
    if not watch:
        data = client.get("/alerts/active")
        return print_json(data) if as_json else console().print(_alerts_table(data))
    from rich.live import Live

    with Live(
        _alerts_table(client.get("/alerts/active")), console=console(), auto_refresh=False
    ) as live:
        try:
            while True:
                time.sleep(interval)
                live.update(_alerts_table(client.get("/alerts/active")), refresh=True)
        except KeyboardInterrupt:
            return None


def predictions(
    url: UrlOpt = None,
    home: HomeOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    server: Annotated[
        str | None, typer.Option(envvar="ARGUS_SERVER", help="Only this server.")
    ] = None,
) -> None:
    """Show every server's risk, level, model and time to issue, and the fleet summary; a
    server without recent data shows as stale with the time of its last sample."""
    data = connect(url, home, config).get("/predictions/current")
    if server is not None:
        stale = data.get("stale_servers", {})
        if server not in data["predictions"] and server not in stale:
            from argus.client import ApiError

            raise ApiError(f"unknown server {server!r}: no prediction for it", 404)
        data = {
            **data,
            "predictions": {k: v for k, v in data["predictions"].items() if k == server},
            "stale_servers": {k: v for k, v in stale.items() if k == server},
        }
    if as_json:
        return print_json(data)
    preds = sorted(data["predictions"].items(), key=lambda kv: -kv[1]["risk_score"])
    rows = [
        (
            name,
            p["alert"]["level"],
            f"{p['risk_score']:.1f}",
            p["dominant_metric"] if p["risk_score"] > 0 else "-",
            p["time_to_issue"] or "-",
            p["model"],
            p["message"],
        )
        for name, p in preds
    ]
    stale = data.get("stale_servers", {})
    rows += [
        (name, "stale", "-", "-", "-", "-", f"{s['message']} (last sample {s['last_sample']})")
        for name, s in stale.items()
    ]
    s = data["summary"]
    if server is not None:
        title = f"{server} at {data['timestamp']}"
    else:
        title = (
            f"{s['total_servers']} servers at {data['timestamp']}: risk health "
            f"{s['fleet_health']} (mean of 100 - risk), P(breach 30m) {s['prob_30m']:.2f}, "
            f"P(breach 8h) {s['prob_8h']:.2f}"
            + (f", {len(stale)} stale" if stale else "")
        )
    cols = ["server", "level", "risk", "metric", "time to issue", "model", "message"]
    console().print(table(title, cols, rows, level_column=1))


def history(
    url: UrlOpt = None,
    home: HomeOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    time_range: RangeOpt = TimeRangeOpt.d1,
    server: Annotated[
        str | None, typer.Option(envvar="ARGUS_SERVER", help="One server's risk history.")
    ] = None,
) -> None:
    """Summarise alert history (or one server's risk history)."""
    client = connect(url, home, config)
    if server is not None:
        data = client.get(f"/historical/server/{server}", time_range=time_range.value)
        return print_json(data) if as_json else _print_server_history(data)
    data = client.get("/historical/summary", time_range=time_range.value)
    if as_json:
        return print_json(data)
    levels = ", ".join(f"{n} {lvl}" for lvl, n in data["alerts_by_level"].items() if n) or "-"
    rows = [
        ("alerts opened", str(data["total_alerts"])),
        ("levels reached", f"{levels} (an alert counts once per level it opened or rose to)"),
        ("mean time to resolve", _minutes(data["avg_resolution_time_minutes"])),
        ("warned before a breach", f"{data['incidents_prevented']} (incidents_prevented)"),
        ("no breach within 8 h", f"{data['alerts_without_breach']} (acted on, or wrong)"),
        ("mean risk health", _text(data["fleet_health_avg"])),
    ]
    title = f"Alert history, {time_range.value} from {data['start']} to {data['end']} (data time)"
    console().print(table(title, ["", ""], rows))


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} minutes"


def _print_server_history(data: dict[str, Any]) -> None:
    out = console()
    rows = [
        ("alerts open in the range", str(data["alert_count"])),
        ("mean risk", _text(data["avg_risk_score"])),
        ("highest risk", _text(data["max_risk_score"])),
        ("time at warning", f"{data['time_in_warning_pct']:.1f} % of cycles"),
        ("time at critical", f"{data['time_in_critical_pct']:.1f} % of cycles"),
        ("trend", data["risk_trend"]),
    ]
    out.print(table(f"{data['server_name']}, last {data['time_range']}", ["", ""], rows))
    series = [(p["timestamp"], f"{p['risk_score']:.1f}", p["level"]) for p in data["history"]]
    # About 48 evenly spaced lines (and the newest) show the course of a day or a week.
    shown = series[:: max(1, len(series) // 48)]
    if series and shown[-1] != series[-1]:
        shown.append(series[-1])
    out.print(
        table(
            f"risk per prediction cycle ({len(shown)} of {len(series)} shown)",
            ["time", "risk", "level"],
            shown,
            level_column=2,
            empty="No prediction cycles in this range.",
        )
    )


def export(
    table_name: Annotated[
        ExportTable, typer.Option("--table", envvar="ARGUS_EXPORT_TABLE", help="What to export.")
    ],
    time_range: RangeOpt = TimeRangeOpt.d1,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", envvar="ARGUS_EXPORT_FORMAT")
    ] = ExportFormat.csv,
    out: Annotated[
        str,
        typer.Option("--out", envvar="ARGUS_EXPORT_OUT", help="File to write, or - for stdout."),
    ] = "-",
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            envvar="ARGUS_DB",
            dir_okay=False,
            help="Read a stopped daemon's DuckDB file instead.",
        ),
    ] = None,
    url: UrlOpt = None,
    home: HomeOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Export alerts, environment snapshots, metrics or predictions; quiet, for cron."""
    if db is not None:
        data = _export_offline(db, table_name.value, time_range.value, fmt.value)
    else:
        data = connect(url, home, config).download(
            f"/historical/export/{table_name.value}",
            time_range=time_range.value,
            format=fmt.value,
        )
    if out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        Path(out).write_bytes(data)


def _export_offline(db: Path, what: str, time_range: str, fmt: str) -> bytes:
    """Export from a DuckDB file directly (only while no daemon holds it)."""
    import tempfile

    from argus.history import range_start
    from argus.storage import history as store_history
    from argus.storage.store import Store

    if not db.exists():
        raise typer.BadParameter(f"{db} does not exist", param_hint="--db")
    store = Store.open(db, read_only=True)
    try:
        end = store_history.latest_time(store)
        start = range_start(end, time_range) if end else None
        with tempfile.TemporaryDirectory(prefix="argus-export-") as tmp:
            path = Path(tmp) / f"export.{fmt}"
            store_history.export(store, what, fmt, path, start, end)
            return path.read_bytes()
    finally:
        store.close()


def cascade(
    url: UrlOpt = None,
    home: HomeOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show fleet health, the current cascade state and recent cascade events."""
    client = connect(url, home, config)
    health, status = client.get("/cascade/health"), client.get("/cascade/status")
    if as_json:
        return print_json({"health": health, "status": status})
    now = status["current_status"]
    out = console()
    out.print(
        f"[bold]anomaly health {health['health_score']}[/] ({health['status']}; share of servers "
        f"behaving as usual, discounted by correlation), cascade risk {health['cascade_risk']}, "
        f"{health['anomalous_servers']}/{health['total_servers']} servers anomalous "
        f"at {now['timestamp']} (data time)"
    )
    rows = [(c["metric"], c["severity"], ", ".join(c["affected_servers"])) for c in now["cascades"]]
    out.print(
        table(
            "Current cascades",
            ["metric", "severity", "affected servers (onset order)"],
            rows,
            empty="No cascade now.",
        )
    )
    ongoing = [e for e in status["recent_events"] if e["ongoing"]]
    if len(ongoing) > 1:  # several incidents at once: each has its own origin and advice
        for e in reversed(ongoing):
            out.print(f"Episode since {e['timestamp']}, origin {e['origin'] or '-'}:")
            for line in e["recommendations"]:
                out.print(f"- {line}")
    else:
        for line in now["recommendations"]:
            out.print(f"- {line}")
    events = [
        (
            e["timestamp"],
            "ongoing" if e["ongoing"] else e["last_seen"],
            e["origin"] or "-",
            e["severity"],
            ", ".join(e["affected_servers"]),
        )
        for e in status["recent_events"]
    ]
    out.print(
        table(
            f"{status['event_count']} cascade episode(s), newest first",
            ["began", "last seen", "origin", "severity", "affected (onset order)"],
            events,
            empty="No cascade events stored.",
        )
    )


def servers(
    url: UrlOpt = None, home: HomeOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False
) -> None:
    """List the servers the daemon predicts, one name a line (shell completion uses it)."""
    names = sorted(connect(url, home, config).get("/predictions/current")["predictions"])
    if as_json:
        return print_json(names)
    sys.stdout.write("".join(f"{name}\n" for name in names))


def register(app: typer.Typer) -> None:
    for command in (status, alerts, predictions, servers, history, cascade):
        app.command()(command)
    app.command("export")(export)
