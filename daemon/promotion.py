"""Model changes while serving: compare a candidate with the current model, hot-reload by name."""

from __future__ import annotations

import logging
import math
import statistics
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from argus.daemon.models import ServingModel, has_links
from argus.errors import InvalidInputError

if TYPE_CHECKING:
    from argus.daemon.services import Services

log = logging.getLogger("argus.models")

EVAL_HORIZONS = (12, 96)  # 1 h and 8 h
EVAL_EVERY = 24  # an origin every 2 hours of the held-out period
EVAL_HISTORY = timedelta(days=8)


def model_name_from_path(model_path: str) -> str:
    """Accept `<name>` or `models/<name>`; anything else (.., absolute, nested) is refused."""
    from argus.forecast.artifacts import validate_name

    name = model_path.removeprefix("models/")
    if "/" in name or "\\" in name:
        raise InvalidInputError(
            f"model_path must be '<name>' or 'models/<name>', not {model_path!r}"
        )
    return validate_name(name)


def reload_model(services: Services, model_path: str | None) -> ServingModel:
    """Load a model from the models dir and swap it in; on any failure the old one keeps serving."""
    from argus.forecast.artifacts import current_name, load_model, models_dir_for, set_current

    models_dir = models_dir_for(services.settings.home)
    name = model_name_from_path(model_path) if model_path else current_name(models_dir)
    if name is None:
        raise InvalidInputError("no model_path given and no current model to reload")
    path = (models_dir / name).resolve()
    if has_links(models_dir, name):
        raise InvalidInputError(f"model {name!r} is or holds a symbolic link; refused")
    if path.parent != models_dir.resolve() or not path.is_dir():
        raise InvalidInputError(f"no model {name!r} inside the models directory")
    from argus.forecast.serving import ServingForecaster

    forecaster = ServingForecaster(load_model(models_dir, name))  # ModelLoadError: no swap
    # what was learnt of the simple forecasters and the bands carries over; the new model's
    # own errors start afresh
    forecaster.adopt(services.models.current.forecaster)
    model = ServingModel(forecaster, f"models/{name}")
    set_current(models_dir, name)
    services.models.swap(model)
    log.info("now serving %s", forecaster.name)
    return model


def median_mase(report_rows: list[dict], model: str) -> float:
    """Median over targets and horizons: one near-constant target (a tiny MASE scale) must not
    decide the comparison on its own."""
    values = [r["mase"] for r in report_rows if r["model"] == model and r.get("mase") is not None]
    finite = sorted(v for v in values if math.isfinite(v))
    return statistics.median(finite) if finite else math.inf


@dataclass(frozen=True)
class Comparison:
    """Candidate against the serving model on the held-out hours (median MASE, lower is better)."""

    candidate: float | None
    current: float | None
    origins: int
    promoted: bool
    detail: str


def evaluate_and_promote(services: Services, name: str) -> Comparison:
    """Backtest candidate `name` and the serving model on the held-out hours; promote if better."""
    import pandas as pd

    from argus.forecast.artifacts import load_model, models_dir_for
    from argus.forecast.backtest import backtest, rolling_origins
    from argus.forecast.frame import STEP_NS, to_grid
    from argus.storage.metrics import read_metrics_frame

    latest = services.window.latest
    if latest is None:
        return Comparison(None, None, 0, False, "no data to evaluate on; candidate kept")
    holdout_start = latest - timedelta(hours=services.settings.retrain_holdout_hours)
    frame = read_metrics_frame(services.store, start=holdout_start - EVAL_HISTORY)
    grid = to_grid(frame)
    first = int(pd.Timestamp(holdout_start).value // STEP_NS)
    origins = rolling_origins(grid, first, EVAL_EVERY, max(EVAL_HORIZONS))
    if not origins:
        detail = "held-out period too short to compare (needs > 8 h); candidate kept"
        return Comparison(None, None, 0, False, detail)
    from argus.forecast.serving import ServingForecaster

    # both as served, each with a serving layer of its own (the live one's learning stays clean)
    candidate = ServingForecaster(load_model(models_dir_for(services.settings.home), name))
    current = ServingForecaster(services.models.current.forecaster.model)
    report = backtest(grid, {"current": current, "candidate": candidate}, EVAL_HORIZONS, origins)
    rows = list(report.rows)
    cand, cur = median_mase(rows, "candidate"), median_mase(rows, "current")
    detail = (
        f"median MASE on {len(origins)} held-out origins: candidate {cand:.3f}, current {cur:.3f}"
    )
    promoted = cand < cur
    if promoted:
        reload_model(services, name)
    detail += "; promoted" if promoted else "; current model kept"
    return Comparison(cand, cur, len(origins), promoted, detail)
