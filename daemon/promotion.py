"""Model changes while serving: compare a candidate with the current model, hot-reload by name."""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import TYPE_CHECKING

from argus.daemon.models import ServingModel
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
    if path.parent != models_dir.resolve() or not path.is_dir():
        raise InvalidInputError(f"no model {name!r} inside the models directory")
    forecaster = load_model(models_dir, name)  # raises ModelLoadError; nothing swapped yet
    model = ServingModel(forecaster, f"models/{name}")
    set_current(models_dir, name)
    services.models.swap(model)
    log.info("now serving %s", forecaster.name)
    return model


def mean_mase(report_rows: list[dict], model: str) -> float:
    values = [r["mase"] for r in report_rows if r["model"] == model and r.get("mase") is not None]
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.inf


def evaluate_and_promote(services: Services, name: str) -> tuple[bool, str]:
    """Backtest candidate `name` and the serving model on the held-out hours; promote if better."""
    import pandas as pd

    from argus.forecast.artifacts import load_model, models_dir_for
    from argus.forecast.backtest import backtest, rolling_origins
    from argus.forecast.frame import STEP_NS, to_grid
    from argus.storage.metrics import read_metrics_frame

    latest = services.window.latest
    if latest is None:
        return False, "no data to evaluate on; candidate kept"
    holdout_start = latest - timedelta(hours=services.settings.retrain_holdout_hours)
    frame = read_metrics_frame(services.store, start=holdout_start - EVAL_HISTORY)
    grid = to_grid(frame)
    first = int(pd.Timestamp(holdout_start).value // STEP_NS)
    origins = rolling_origins(grid, first, EVAL_EVERY, max(EVAL_HORIZONS))
    if not origins:
        return False, "held-out period too short to compare (needs > 8 h); candidate kept"
    candidate = load_model(models_dir_for(services.settings.home), name)
    current = services.models.current.forecaster
    report = backtest(grid, {"current": current, "candidate": candidate}, EVAL_HORIZONS, origins)
    rows = list(report.rows)
    cand, cur = mean_mase(rows, "candidate"), mean_mase(rows, "current")
    detail = (
        f"mean MASE on the last {len(origins)} origins: candidate {cand:.3f}, current {cur:.3f}"
    )
    if cand < cur:
        reload_model(services, name)
        return True, detail + "; promoted"
    return False, detail + "; current model kept"
