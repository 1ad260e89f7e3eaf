"""Model administration: list, hot-reload, train in a child process, follow, cancel."""

from __future__ import annotations

import time

from flask import Response, current_app
from pydantic import BaseModel, ConfigDict, Field

from argus.daemon.limits import ADMIN_LIMIT
from argus.daemon.models import has_links
from argus.daemon.promotion import reload_model
from argus.daemon.routing import Route, query_args, respond
from argus.daemon.schemas import ErrorBody
from argus.daemon.services import Services
from argus.daemon.training import TrainingRun
from argus.daemon.utc import UtcDateTime
from argus.storage.drift import training_runs


class ModelEntry(BaseModel):
    name: str
    path: str
    current: bool
    serving: bool
    created_at: str | None
    data_range: dict | None
    backtest: dict | None


class ModelsBody(BaseModel):
    """Models in the models directory, newest first."""

    serving: str
    models: list[ModelEntry]


class ReloadQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model_path: str | None = Field(
        default=None,
        pattern=r"^(models/)?[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="'<name>' or 'models/<name>'",
    )


class ReloadBody(BaseModel):
    """The model now serving."""

    success: bool = True
    model: str
    model_path: str


class TrainQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    epochs: int | None = Field(default=None, ge=1, le=500)
    incremental: bool = False


class TrainingStatusBody(BaseModel):
    """The current (or last) training run; everything but `live` and `status` is null when idle."""

    live: bool = False
    status: str = Field(
        default="idle",
        description="idle; running (the network trains); finishing (the child blends, calibrates "
        "and scores the candidate); evaluating (the daemon compares it with the serving model on "
        "recent data); then promoted, kept, failed or cancelled",
    )
    id: str | None = None
    pid: int | None = Field(default=None, description="the training child's process id")
    reason: str | None = None
    model_name: str | None = None
    epoch: int | None = None
    total_epochs: int | None = None
    percent: float | None = None
    eta_minutes: float | None = None
    train_loss: float | None = None
    val_loss: float | None = None
    started_at: UtcDateTime | None = None
    finished_at: UtcDateTime | None = None
    candidate_mase: float | None = Field(
        default=None, description="held-out median MASE of the candidate"
    )
    current_mase: float | None = Field(
        default=None, description="held-out median MASE of the serving model"
    )
    detail: str = ""


class TrainingRunBody(BaseModel):
    id: str
    started_at: UtcDateTime
    finished_at: UtcDateTime | None
    reason: str
    model_name: str
    epochs: int
    incremental: bool
    status: str
    promoted: bool | None
    detail: str | None


class TrainingStatsBody(BaseModel):
    """Counts and the most recent training runs."""

    total_runs: int
    by_status: dict[str, int]
    by_reason: dict[str, int]
    runs: list[TrainingRunBody]


def _services() -> Services:
    return current_app.extensions["argus"]


def models() -> Response:
    from argus.forecast.artifacts import list_models, models_dir_for

    services = _services()
    serving = services.models.current
    models_dir = models_dir_for(services.settings.home)
    entries = [
        ModelEntry(
            name=m.name,
            path=f"models/{m.name}",
            current=m.current,
            serving=serving.path == f"models/{m.name}",
            created_at=m.metadata.get("created_at"),
            data_range=m.metadata.get("data_range"),
            backtest=m.metadata.get("backtest"),
        )
        for m in list_models(models_dir)
        if not has_links(models_dir, m.name)
    ]
    return respond(ModelsBody(serving=serving.forecaster.name, models=entries))


def reload() -> Response:
    query = query_args(ReloadQuery)
    model = reload_model(_services(), query.model_path)
    return respond(ReloadBody(model=model.forecaster.name, model_path=model.path or ""))


def _network_done(fraction: float, elapsed_s: float | None) -> bool:
    """The child has left the training loop (every epoch, or the network's share of the time cap
    used): it is blending, calibrating and scoring the candidate, which takes minutes more."""
    from argus.forecast.base import NETWORK_SHARE

    cap_s = _services().settings.retrain_max_minutes * 60 * NETWORK_SHARE
    return fraction >= 1.0 or (elapsed_s is not None and elapsed_s >= cap_s)


def _status_body(run: TrainingRun | None) -> TrainingStatusBody:
    if run is None:
        return TrainingStatusBody()
    progress = run.progress() or {}
    epoch, total = progress.get("epoch"), progress.get("max_epochs", run.epochs)
    batches, done = progress.get("batches_per_epoch") or 1, progress.get("batch", 0)
    fraction = min(1.0, ((epoch or 1) - 1 + done / batches) / total) if epoch else 0.0
    elapsed = time.monotonic() - run.started_mono
    eta = elapsed * (1 - fraction) / fraction / 60 if run.live and fraction > 0 else None
    status = run.status
    if status == "running" and _network_done(fraction, progress.get("elapsed_s")):
        status, eta = "finishing", None
    return TrainingStatusBody(
        live=run.live,
        id=run.id,
        pid=run.proc.pid if run.proc else None,
        status=status,
        reason=run.reason,
        model_name=run.model_name,
        epoch=epoch,
        total_epochs=total,
        percent=round(100 * fraction, 1),
        eta_minutes=None if eta is None else round(eta, 1),
        train_loss=progress.get("train_loss"),
        val_loss=progress.get("val_loss"),
        started_at=run.started_at,
        finished_at=run.finished_at,
        candidate_mase=run.comparison.candidate if run.comparison else None,
        current_mase=run.comparison.current if run.comparison else None,
        detail=run.detail,
    )


def trigger_training() -> Response:
    query = query_args(TrainQuery)
    run = _services().training.request(
        reason="manual", cooldown=False, epochs=query.epochs, incremental=query.incremental
    )
    return respond(_status_body(run), 202)


def training_status() -> Response:
    return respond(_status_body(_services().training.run))


def training_stats() -> Response:
    runs = [TrainingRunBody(**r) for r in training_runs(_services().store, limit=1000)]
    by_status: dict[str, int] = {}
    by_reason: dict[str, int] = {}
    for r in runs:
        by_status[r.status] = by_status.get(r.status, 0) + 1
        by_reason[r.reason] = by_reason.get(r.reason, 0) + 1
    return respond(
        TrainingStatsBody(
            total_runs=len(runs), by_status=by_status, by_reason=by_reason, runs=runs[:20]
        )
    )


def cancel_training() -> Response:
    services = _services()
    run = services.training.cancel()
    return respond(_status_body(run if run is not None else services.training.run))


ROUTES = (
    Route(
        "/admin/models",
        "GET",
        models,
        "Models in the models directory",
        {200: ModelsBody},
        limit=ADMIN_LIMIT,
        tags=("admin",),
    ),
    Route(
        "/admin/reload-model",
        "POST",
        reload,
        "Hot-swap the serving model",
        {200: ReloadBody, 409: ErrorBody},
        query=ReloadQuery,
        limit=ADMIN_LIMIT,
        tags=("admin",),
    ),
    Route(
        "/admin/trigger-training",
        "POST",
        trigger_training,
        "Train a candidate in a child process (promoted only if better)",
        {202: TrainingStatusBody, 409: ErrorBody},
        query=TrainQuery,
        limit=ADMIN_LIMIT,
        tags=("admin",),
    ),
    Route(
        "/admin/training-status",
        "GET",
        training_status,
        "The current or last training run",
        {200: TrainingStatusBody},
        limit=ADMIN_LIMIT,
        tags=("admin",),
    ),
    Route(
        "/admin/training-stats",
        "GET",
        training_stats,
        "Training history",
        {200: TrainingStatsBody},
        limit=ADMIN_LIMIT,
        tags=("admin",),
    ),
    Route(
        "/admin/cancel-training",
        "POST",
        cancel_training,
        "Stop the running training",
        {200: TrainingStatusBody},
        limit=ADMIN_LIMIT,
        tags=("admin",),
    ),
)
