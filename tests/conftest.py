"""Fixtures: in-process apps over a real DuckDB file, and real daemon subprocesses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from argus.config import Settings
from argus.daemon.app import create_app
from argus.daemon.models import ServingModel
from argus.daemon.service import build_services
from argus.daemon.services import Services
from argus.forecast.serving import ServingForecaster
from tests.factories import TEST_KEY, LiveDaemon


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", rate_limits_enabled=False, max_body_mb=1.0)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    settings.home.mkdir(parents=True, exist_ok=True)
    # no trained model, served as the daemon serves it (combination, bands, trend rule)
    fallback = ServingForecaster(None)
    built = build_services(settings, TEST_KEY, ServingModel(fallback, None))
    yield built
    built.store.close()


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_X_API_KEY"] = TEST_KEY
    return client


@pytest.fixture
def anon_client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[LiveDaemon]:
    live = LiveDaemon(home=tmp_path / "daemon-home").start()
    yield live
    live.stop()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models dir holding one tiny TFT ('tiny') trained on a simulated fleet; copy, don't edit."""
    from argus.forecast.base import TrainOptions
    from argus.forecast.training import train_model
    from argus.simulate import simulate_fleet
    from argus.simulate.dataset import block_frame
    from tests.test_forecast_support import tiny_config

    models = tmp_path_factory.mktemp("tiny") / "models"
    frame = block_frame(simulate_fleet(servers=6, days=3, seed=5).block)
    train_model(
        frame,
        models_dir=models,
        name="tiny",
        config=tiny_config(),
        options=TrainOptions(epochs=2, max_minutes=1.0, seed=1),
    )
    return models


def install_model(models: Path, home: Path) -> Path:
    """Copy a trained models dir into a data dir."""
    import shutil

    target = home / "models"
    shutil.copytree(models, target)
    return target
