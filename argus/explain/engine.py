"""explain_server: importance, attention and counterfactuals of one server, from its model."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from argus.catalogue import TARGETS
from argus.explain.attention import analysis, attention_analysis, focus_periods, rule_periods
from argus.explain.counterfactuals import Counterfactual, counterfactual, select
from argus.explain.features import FeatureImportance, metric_of
from argus.explain.importance import (
    OCCLUSION_METHOD,
    TFT_METHOD,
    occlusion_effect,
    occlusion_importance,
    tft_importance,
)
from argus.explain.scenarios import (
    SCENARIOS,
    apply_scenario,
    occluded_name,
    occlusions,
    present_values,
    variant_name,
)
from argus.forecast.base import ForecastSet, Interpretable, NetworkWeights
from argus.forecast.frame import grid_to_feed
from argus.forecast.grid import buckets_of
from argus.risk import ServerRisk, assess_server

if TYPE_CHECKING:
    from argus.forecast.serving import ServingForecaster
    from argus.grid import FleetGrid

TOP_FEATURES = 5
ATTENTION_METHOD = "tft_attention"
RULE_METHOD = "seasonal_naive_rule"
Importance = Literal["auto", "occlusion"]
NARRATE_FROM_RISK = 50.0  # at or above (degraded), the analysis is about the risky metric


@dataclass(frozen=True)
class Attention:
    method: str
    focus_periods: tuple[str, ...]
    shares: tuple[float, ...]  # attention share of each period (0 for the fallback's rule)
    analysis: str


@dataclass(frozen=True)
class Explanation:
    """Everything /explain/{server} reports, computed from one model run."""

    server: str
    profile: str
    model: str  # what served the server: "tft:<name>" or "baseline", maybe "+trend"
    method: str  # how `features` were measured
    risk: ServerRisk  # the risk of the unmodified inputs, re-computed in this run
    features: tuple[FeatureImportance, ...]  # every feature, most important first
    occlusion: tuple[FeatureImportance, ...]  # every target by occlusion effect (any model)
    attention: Attention
    counterfactuals: tuple[Counterfactual, ...]
    counterfactual_summary: str
    last_sample: pd.Timestamp
    seconds: float

    @property
    def top_features(self) -> tuple[FeatureImportance, ...]:
        return self.features[:TOP_FEATURES]


def _interpreted(forecaster: ServingForecaster, grid: pd.DataFrame) -> bool:
    """Whether the served model can say what it weighed for this server (else: occlusion only)."""
    model = forecaster.model
    return isinstance(model, Interpretable) and model.interprets(grid)


def _risks(
    forecast: ForecastSet,
    variants: dict[str, pd.DataFrame],
    profile: str,
    cores: int | None = None,
    metrics: Collection[str] | None = None,
) -> dict[str, ServerRisk]:
    return {
        name: assess_server(
            forecast, name, profile, present_values(grid), cores=cores, metrics=metrics
        )
        for name, grid in variants.items()
    }


def _narrated_metric(risk: ServerRisk, features: tuple[FeatureImportance, ...]) -> str:
    """The metric the attention analysis talks about: the risky one, else the most weighed
    (a forecast target: a metric scored on its present value alone has no forecast to explain)."""
    forecast = [r for m, r in risk.metrics.items() if m in TARGETS]
    by_risk = sorted(forecast, key=lambda r: (r.score, r.forecast_score))
    riskiest = by_risk[-1].metric if by_risk else TARGETS[0]
    if risk.risk_score >= NARRATE_FROM_RISK:
        return riskiest
    for feature in features:
        metric = metric_of(feature.feature)
        if metric is not None:
            return metric
    return riskiest


def _attention(
    grid: pd.DataFrame, view: NetworkWeights | None, metric: str, horizon: int
) -> Attention:
    values = grid[metric].to_numpy(dtype=np.float64)
    if view is not None:
        periods = focus_periods(view.attention)
        text = attention_analysis(values, view.attention, periods, metric)
        method = ATTENTION_METHOD
    else:
        periods = rule_periods(len(grid), horizon)
        who = "The simple forecasters (the last hour and the same hours on earlier days)"
        text = analysis(values, periods, metric, f"{who} focused on")
        method = RULE_METHOD
    return Attention(
        method,
        tuple(p.label for p in periods),
        tuple(round(p.share, 3) for p in periods),
        text,
    )


def _run(
    forecaster: ServingForecaster, batch: pd.DataFrame, server: str, interpreted: bool
) -> tuple[ForecastSet, NetworkWeights | None]:
    """Serve every variant as the server itself would be (its learnt weights and bands)."""
    feed = grid_to_feed(batch)
    state_of = {str(name): server for name in batch["server"].unique()}
    forecast = forecaster.forecast(feed, state_of=state_of)
    model = forecaster.model
    if not interpreted or not isinstance(model, Interpretable):
        return forecast, None
    # the interpretation needs the real server's window only (the variants were served above)
    own = batch[batch["server"].astype(str) == server]
    return forecast, model.interpret(own, server)


def _variants(
    grid: pd.DataFrame, server: str, profile: str, occlusion: bool
) -> dict[str, pd.DataFrame]:
    """The real history, one copy per scenario and (with `occlusion`) one per hidden metric."""
    out = {server: grid}
    out.update({variant_name(server, s.key): apply_scenario(grid, s, server) for s in SCENARIOS})
    if occlusion:
        out.update(
            {occluded_name(server, t): g for t, g in occlusions(grid, server, profile).items()}
        )
    return out


def _occlusion_features(
    forecast: ForecastSet, risks: dict[str, ServerRisk], server: str, profile: str
) -> tuple[FeatureImportance, ...]:
    effects = {
        target: occlusion_effect(
            risks[server],
            risks[occluded_name(server, target)],
            forecast,
            (server, occluded_name(server, target)),
            profile,
        )
        for target in TARGETS
    }
    return occlusion_importance(effects)


def explain_server(
    forecaster: ServingForecaster,
    history: FleetGrid,
    server: str,
    profile: str | None = None,
    *,
    importance: Importance = "auto",
    cores: int | None = None,
    metrics: Collection[str] | None = None,
) -> Explanation:
    """Explain the forecast and risk of `server` from `history`, the window's grid (of that
    server, up to the prediction cycle explained).

    `forecaster` is the serving model (a `ServingForecaster`). One batched serving run
    forecasts the real history, every counterfactual scenario and every occluded copy; risk
    is scored by `assess_server` exactly like a prediction cycle. `features` are the model's
    own weights when it is `Interpretable` and serves the server (`importance="auto"`), else
    the occlusion ranking, which is always in `occlusion`. `cores` and `metrics` score risk as
    the cycle did: the server's reported CPU count, and only the targets it reports.
    """
    started = time.perf_counter()
    own = history.select({server})
    grid = buckets_of(own, own.steps).frame()  # its whole history as the forecasters read it
    if grid.empty:
        raise ValueError(f"no history for server {server!r}")
    profile = profile or str(grid["profile"].iloc[-1])
    interpreted = _interpreted(forecaster, grid)
    variants = _variants(grid, server, profile, occlusion=True)
    batch = pd.concat(variants.values(), ignore_index=True)
    forecast, view = _run(forecaster, batch, server, interpreted)
    risks = _risks(forecast, variants, profile, cores, metrics)
    occluded = _occlusion_features(forecast, risks, server, profile)
    if view is None or importance == "occlusion":
        features, method = occluded, OCCLUSION_METHOD
    else:
        features, method = tft_importance(view), TFT_METHOD
    base = risks[server]
    results = [counterfactual(s, base, risks[variant_name(server, s.key)]) for s in SCENARIOS]
    chosen, summary = select(results, base)
    return Explanation(
        server=server,
        profile=profile,
        model=forecast.model_of(server),
        method=method,
        risk=base,
        features=features,
        occlusion=occluded,
        attention=_attention(grid, view, _narrated_metric(base, features), forecast.steps),
        counterfactuals=chosen,
        counterfactual_summary=summary,
        last_sample=pd.Timestamp(grid["timestamp"].iloc[-1]),
        seconds=round(time.perf_counter() - started, 4),
    )
