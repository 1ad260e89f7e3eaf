"""GET /explain/{server_name}: why the model scores a server as it does.

Unlike the other GETs this one runs the model (that is its point), for the one server asked,
on that server's history as of the latest prediction cycle. It never touches the snapshot; the
result is cached per cycle and server in `Services.explanations`, whose lock lets one
explanation run at a time.
"""

from __future__ import annotations

from datetime import datetime

from flask import Response, current_app
from pydantic import BaseModel, Field

from argus.daemon.limits import RATE_LIMITS
from argus.daemon.routing import SERVER_NAME_SCHEMA, Route, insufficient_data
from argus.daemon.schemas import InsufficientDataBody
from argus.daemon.services import Services
from argus.daemon.utc import UtcDateTime
from argus.errors import NotFoundError
from argus.explain.counterfactuals import Counterfactual
from argus.explain.engine import Explanation, explain_server
from argus.explain.features import FeatureImportance
from argus.risk import ServerRisk
from argus.thresholds import Level


class ExplainPrediction(BaseModel):
    risk_score: float = Field(description="the server's risk in the latest prediction cycle")
    alert_level: str = Field(description="the server's level, as its tile and alert show it")
    dominant_metric: str
    message: str


class FeatureBody(BaseModel):
    feature: str = Field(description="user-facing feature name, e.g. mem_pct, time_of_day")
    importance: float = Field(description="normalised: the most important feature is 1.0")
    stars: str = Field(description="5 characters, round(importance * 5) filled: ★★★☆☆")
    label: str
    raw: float = Field(
        description="mean variable-selection weight (tft_variable_selection) or the occlusion "
        "effect in 0-100 points (occlusion)"
    )


class ShapBody(BaseModel):
    method: str = Field(description="tft_variable_selection or occlusion (see docs/explain.md)")
    top_features: list[FeatureBody]
    occlusion: list[FeatureBody] = Field(
        description="every forecast target ranked by occlusion on the same model"
    )


class AttentionBody(BaseModel):
    method: str = Field(description="tft_attention or seasonal_naive_rule")
    focus_periods: list[str]
    shares: list[float] = Field(description="attention share of each period (0 for the rule)")
    analysis: str


class CounterfactualBody(BaseModel):
    scenario: str
    impact: str
    recommendation: str
    risk_before: float
    risk_after: float
    change: float
    helps: bool


class ExplainBody(BaseModel):
    """The seed's explanation, plus how each part was computed."""

    server_name: str
    profile: str
    model: str = Field(
        description="what served the server: tft:<name> or baseline (+trend: drift override)"
    )
    data_time: UtcDateTime = Field(description="the prediction cycle explained")
    last_sample: UtcDateTime
    prediction: ExplainPrediction
    shap: ShapBody
    attention: AttentionBody
    counterfactuals: list[CounterfactualBody]
    counterfactual_summary: str
    compute_ms: float


def _feature(f: FeatureImportance) -> FeatureBody:
    return FeatureBody(
        feature=f.feature, importance=f.importance, stars=f.stars, label=f.label, raw=f.raw
    )


def _counterfactual(c: Counterfactual) -> CounterfactualBody:
    return CounterfactualBody(
        scenario=c.scenario,
        impact=c.impact,
        recommendation=c.recommendation,
        risk_before=c.risk_before,
        risk_after=c.risk_after,
        change=c.change,
        helps=c.helps,
    )


def explain_body(
    e: Explanation, risk: ServerRisk, level: Level, data_time: datetime
) -> ExplainBody:
    """Serialise an explanation; `risk` and `level` are the snapshot's (what dashboards show)."""
    return ExplainBody(
        server_name=e.server,
        profile=e.profile,
        model=e.model,
        data_time=data_time,
        last_sample=e.last_sample.to_pydatetime(),
        prediction=ExplainPrediction(
            risk_score=risk.risk_score,
            alert_level=str(level),
            dominant_metric=risk.dominant_metric,
            message=risk.message,
        ),
        shap=ShapBody(
            method=e.method,
            top_features=[_feature(f) for f in e.top_features],
            occlusion=[_feature(f) for f in e.occlusion],
        ),
        attention=AttentionBody(
            method=e.attention.method,
            focus_periods=list(e.attention.focus_periods),
            shares=list(e.attention.shares),
            analysis=e.attention.analysis,
        ),
        counterfactuals=[_counterfactual(c) for c in e.counterfactuals],
        counterfactual_summary=e.counterfactual_summary,
        compute_ms=round(e.seconds * 1000, 1),
    )


def _not_ready(services: Services) -> Response:
    return insufficient_data(
        services.window.record_count,
        services.settings.warmup_records,
        "the first prediction cycle has not finished yet",
    )


def explain(server_name: str) -> Response:
    services: Services = current_app.extensions["argus"]
    snapshot = services.snapshot
    if snapshot is None:
        return _not_ready(services)
    if server_name not in snapshot.risks:
        raise NotFoundError(f"unknown server {server_name!r}: not in the latest prediction cycle")
    key = (snapshot.data_time, snapshot.computed_at, server_name)
    cache = services.explanations
    body = cache.get(key)
    if body is None:
        with cache.compute_lock:
            body = cache.get(key)  # another request may have computed it meanwhile
            if body is None:
                grid = services.window.grid(only=server_name, until=snapshot.data_time)
                if not grid.servers:  # evicted from the window since the cycle
                    raise NotFoundError(f"no history left for server {server_name!r}")
                forecaster = services.models.current.forecaster
                found = explain_server(
                    forecaster,
                    grid,
                    server_name,
                    snapshot.profiles[server_name],
                    cores=snapshot.facts[server_name].cpu_cores,
                    metrics=snapshot.targets_of(server_name),
                )
                risk = snapshot.risks[server_name]
                level = snapshot.levels[server_name]
                explained = explain_body(found, risk, level, snapshot.data_time)
                body = explained.model_dump_json().encode()
                cache.put(key, body)
    return Response(body, mimetype="application/json")


ROUTES = (
    Route(
        "/explain/<server_name>",
        "GET",
        explain,
        "Why a server has its risk: variable importance, attention and counterfactuals",
        {200: ExplainBody, 503: InsufficientDataBody},
        limit=RATE_LIMITS["/explain/<server_name>"],
        tags=("predictions",),
        path_schemas={"server_name": SERVER_NAME_SCHEMA},
    ),
)
