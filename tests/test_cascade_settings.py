"""The daemon's cascade settings reach the detector and GET /cascade/status."""

from __future__ import annotations

from pathlib import Path

import pytest

from argus.config import Settings
from argus.storage.cascades import count_cascade_events
from tests.test_cascade_api import incident_fleet  # noqa: F401 - the fixture, used by name


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A detector configured so strictly that the spreading incident is not a cascade."""
    return Settings(
        home=tmp_path / "home",
        rate_limits_enabled=False,
        cascade_anomaly_z=1000.0,
        cascade_servers=5,
        cascade_correlation=0.95,
    )


def test_configured_thresholds_are_used_and_echoed(client, services, incident_fleet) -> None:  # noqa: F811
    status = client.get("/cascade/status").get_json()
    assert status["thresholds"]["anomaly_z_score"] == 1000.0
    assert status["thresholds"]["cascade_servers"] == 5
    assert status["thresholds"]["correlation"] == 0.95
    # with the default z of 4.0 this incident is detected (test_cascade_api); here nothing is
    assert status["current_status"]["servers_with_anomalies"] == 0
    assert not status["current_status"]["cascade_detected"]
    assert count_cascade_events(services.store) == 0


def test_two_servers_cannot_be_configured_as_a_cascade(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cascade_servers"):
        Settings(home=tmp_path, cascade_servers=2)


def test_setting_defaults_are_the_detectors_documented_defaults(tmp_path: Path) -> None:
    """config.py keeps literal defaults (importing argus.cascade would load numpy into every
    CLI start); they must stay the detector's."""
    from argus.cascade import CascadeSettings

    settings, detector = Settings(home=tmp_path), CascadeSettings()
    assert settings.cascade_anomaly_z == detector.anomaly_z_score
    assert settings.cascade_servers == detector.cascade_servers
    assert settings.cascade_correlation == detector.correlation
