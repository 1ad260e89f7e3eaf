"""Variable importance: the TFT's variable-selection weights, or occlusion on any model.

TFT: the encoder variable-selection network gives every input a weight at every encoder step
(softmax, sums to 1); `interpret_output(reduction="none")` averages them over this server's
encoder steps. Inputs that form one feature (sin/cos of the time of day) are summed.

Occlusion (model-agnostic, used for the seasonal-naive fallback): hide the last day of one
input metric (replace it by the metric's median over the history, capped at 80 % of its
warning threshold), re-forecast with the same
model, re-score, and measure the change in 0-100 points (see `occlusion_effect`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from argus.explain.features import FeatureImportance, group_weights, rank
from argus.forecast.base import ForecastSet, NetworkWeights
from argus.risk import ServerRisk
from argus.thresholds import threshold_for

TFT_METHOD = "tft_variable_selection"
OCCLUSION_METHOD = "occlusion"


def tft_importance(view: NetworkWeights) -> tuple[FeatureImportance, ...]:
    """Every feature ranked by its share of the encoder variable-selection weight."""
    return rank(group_weights(view.inputs, view.weights.tolist()))


def occlusion_effect(
    base: ServerRisk,
    occluded: ServerRisk,
    forecast: ForecastSet,
    names: tuple[str, str],
    profile: str,
) -> float:
    """How much hiding one input moved the output, in 0-100 points.

    The sum over risk metrics of (a) the change of the metric's risk score and (b) the mean
    change of its median forecast, in percent of its critical threshold. (a) is what the
    operator sees; (b) separates inputs when no risk score moves (a healthy server).
    """
    server, variant = names
    total = 0.0
    for metric, risk in base.metrics.items():
        total += abs(risk.score - occluded.metrics[metric].score)
        shift = np.abs(forecast.median(server, metric) - forecast.median(variant, metric))
        total += float(shift.mean()) / threshold_for(metric, profile).critical * 100.0
    return total


def occlusion_importance(effects: Mapping[str, float]) -> tuple[FeatureImportance, ...]:
    """Features ranked by their occlusion effect (raw = points)."""
    return rank({feature: round(value, 4) for feature, value in effects.items()})
