"""`argus explain SERVER`: why the daemon scores a server as it does (GET /explain/{server})."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from argus.cli.connect import ConfigOpt, HomeOpt, JsonOpt, UrlOpt, connect
from argus.cli.render import console, print_json, table


def _print(data: dict[str, Any]) -> None:
    out = console()
    pred = data["prediction"]
    out.print(
        f"[bold]{data['server_name']}[/] ({data['profile']}, model {data['model']}): "
        f"risk {pred['risk_score']:.1f} {pred['alert_level']} - {pred['message']}"
    )
    shap = data["shap"]
    rows = [
        (f["feature"], f"{f['importance']:.2f}", f["stars"], f["label"])
        for f in shap["top_features"]
    ]
    out.print(
        table(f"Top features ({shap['method']})", ["feature", "importance", "", "what"], rows)
    )
    att = data["attention"]
    out.print(f"[bold]Focus[/] ({att['method']}): {', '.join(att['focus_periods'])}")
    out.print(f"  {att['analysis']}")
    helps = [(c["scenario"], c["impact"], c["recommendation"]) for c in data["counterfactuals"]]
    out.print(table("What would help", ["scenario", "impact", "recommendation"], helps))
    out.print(data["counterfactual_summary"])


def explain(
    server: Annotated[str, typer.Argument(help="The server to explain, e.g. ppdb001.")],
    url: UrlOpt = None,
    home: HomeOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Explain a server's risk: important features, attention and what-if scenarios."""
    data = connect(url, home, config).get(f"/explain/{server}")
    return print_json(data) if as_json else _print(data)


def register(app: typer.Typer) -> None:
    app.command()(explain)
