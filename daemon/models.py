"""The serving model: loaded at start-up, swapped atomically, counted on every forecast."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from argus.errors import ArgusError
from argus.forecast.base import ForecastSet

if TYPE_CHECKING:
    from argus.forecast.serving import ServingForecaster
    from argus.grid import FleetGrid

log = logging.getLogger("argus.models")


@dataclass(frozen=True)
class ServingModel:
    """A forecaster and where it came from; `path` is None for the built-in fallback."""

    forecaster: ServingForecaster
    path: str | None

    @property
    def trained(self) -> bool:
        return self.path is not None


def load_serving_model(home: Path, torch_threads: int) -> ServingModel:
    """The current trained model as served (`ServingForecaster`), or the serving layer alone
    (the simple forecasters' combination) when there is none or it fails to load."""
    from argus.forecast import registry
    from argus.forecast.artifacts import ModelLoadError, current_name, load_current, models_dir_for
    from argus.forecast.serving import ServingForecaster

    # With 2 threads a TFT step is ~18x slower when another process competes for the CPU.
    registry.set_threads(torch_threads)
    models_dir = models_dir_for(home)
    try:
        name = current_name(models_dir)
    except UnicodeDecodeError as exc:
        raise ArgusError(
            f"{models_dir / 'current'} is not a model name (not UTF-8 text): write the name of "
            "a model directory in models/ into it, or delete it to serve the fallback"
        ) from exc
    try:
        if name is not None and has_links(models_dir, name):
            raise ModelLoadError(f"model {name!r} is or holds a symbolic link")
        loaded = load_current(models_dir)
    except ModelLoadError as exc:
        log.error("current model refused, serving the fallback: %s", exc.message)
        loaded = None
    if loaded is None:
        log.info("no trained model: the simple forecasters' combination serves every server")
        return ServingModel(ServingForecaster(None), None)
    log.info("serving model %s", loaded.name)
    return ServingModel(ServingForecaster(loaded), f"models/{current_name(models_dir)}")


def has_links(models_dir: Path, name: str) -> bool:
    """True when model `name`'s directory, or a file in it, is a symbolic link: Argus reads
    checkpoints only from files it owns inside the models directory, never through a link."""
    path = models_dir / name
    if path.is_symlink():
        return True
    try:
        return any(child.is_symlink() for child in path.iterdir())
    except OSError:
        return False


class ModelHolder:
    """Holds the serving model; a swap is one reference assignment, so a forecast in flight
    finishes on the model it started with."""

    def __init__(self, model: ServingModel) -> None:
        self._model = model
        self._lock = threading.Lock()
        self.forecast_runs = 0

    @property
    def current(self) -> ServingModel:
        return self._model

    def swap(self, model: ServingModel) -> ServingModel:
        old, self._model = self._model, model
        return old

    def forecast(self, grid: FleetGrid) -> ForecastSet:
        """Run the current model on the window's grid; one forecast at a time (torch is
        configured single-threaded)."""
        model = self._model
        with self._lock:
            self.forecast_runs += 1
            return model.forecaster.predict(grid)
