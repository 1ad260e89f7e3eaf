"""Drift metrics: PSI, realised error, band misses, and which thresholds they cross."""

from __future__ import annotations

import numpy as np
import pytest

from argus.drift import DriftThresholds, Realised, assess, band_misses, prediction_error, psi
from argus.forecast.reference import reference_statistics


def reference_of(values: np.ndarray) -> dict:
    import pandas as pd

    grid = pd.DataFrame(
        {
            "cpu_pct": values,
            "mem_pct": values / 2,
            "swap_pct": 1.0,
            "iowait_pct": 2.0,
            "load": 1.0,
            "disk_pct": 40.0,
        }
    )
    return reference_statistics(grid)


def test_psi_is_zero_for_the_same_distribution_and_grows_with_shift() -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(40, 5, 20_000)
    stats = reference_of(ref)["cpu_pct"]["histogram"]
    same = psi(stats["edges"], stats["shares"], rng.normal(40, 5, 5_000))
    shifted = psi(stats["edges"], stats["shares"], rng.normal(50, 5, 5_000))
    doubled = psi(stats["edges"], stats["shares"], rng.normal(80, 10, 5_000))
    assert same < 0.02
    assert 0.5 < shifted < doubled


def test_psi_matches_the_formula_on_a_hand_example() -> None:
    value = psi([0, 1, 2], [0.5, 0.5], np.array([0.5, 1.5, 1.5, 1.5]))
    expected = (0.25 - 0.5) * np.log(0.25 / 0.5) + (0.75 - 0.5) * np.log(0.75 / 0.5)
    assert value == pytest.approx(expected)


def test_prediction_error_is_scaled_per_target() -> None:
    points = [
        Realised("cpu_pct", "Database", 40, 50, 60, 60),
        Realised("cpu_pct", "Database", 40, 50, 60, 50),
        Realised("load", "Database", 1, 4, 8, 8),
    ]
    errors = prediction_error(points)
    assert errors["cpu_pct"] == pytest.approx(0.05)  # (10 + 0) / 2 / 100
    assert errors["load"] == pytest.approx(4 / 24, abs=1e-4)  # Database: critical 1.5 x 16 cores
    assert band_misses(points) == pytest.approx(0.0)


def test_doubled_cpu_is_detected_as_drift_and_calm_data_is_not() -> None:
    rng = np.random.default_rng(1)
    ref = reference_of(rng.normal(30, 5, 10_000))
    calm = {"cpu_pct": rng.normal(30, 5, 2_000), "mem_pct": rng.normal(15, 2.5, 2_000)}
    doubled = {"cpu_pct": rng.normal(60, 10, 2_000), "mem_pct": rng.normal(15, 2.5, 2_000)}
    assert not assess(ref, calm, []).drift_detected
    shifted = assess(ref, doubled, [])
    assert shifted.drift_detected
    assert shifted.feature_drift["cpu_pct"] > 1
    assert shifted.status("fds") == "drift" and shifted.status("per") == "insufficient_data"
    assert any("cpu_pct" in reason for reason in shifted.reasons)


def test_band_misses_beyond_twenty_percent_raise_the_anomaly_rate() -> None:
    hits = [Realised("mem_pct", "Generic", 40, 50, 60, 50)] * 60
    misses = [Realised("mem_pct", "Generic", 40, 50, 60, 75)] * 40
    result = assess({}, {}, hits + misses, DriftThresholds())
    assert result.band_miss_rate == pytest.approx(0.4)
    assert result.anomaly_rate == pytest.approx(0.2)
    assert result.drift_detected
