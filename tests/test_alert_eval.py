"""Early-warning and calibration scoring (argus.alert_eval) on hand-computable cases."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from argus.alert_eval import LabelledIncident, calibration, early_warning
from argus.alerts import AlertEvent, AlertEventKind
from argus.replay import ReplayStep
from argus.thresholds import Level

T0 = datetime(2025, 1, 1)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def opened(server: str, minutes: int, level: Level = Level.WARNING) -> AlertEvent:
    return AlertEvent(
        server_name=server,
        kind=AlertEventKind.NEW,
        at=at(minutes),
        level=level,
        previous_level=Level.HEALTHY,
        risk_score=70.0,
        dominant_metric="mem_pct",
        message="",
        opened_at=at(minutes),
        duration_minutes=None,
    )


def steps(events: dict[int, list[AlertEvent]], until: int) -> list[ReplayStep]:
    """A cycle every 15 minutes from T0 to `until`, with `events` at their minutes."""
    return [
        ReplayStep(at=at(m), risks={}, events=events.get(m, []), active={})
        for m in range(0, until + 1, 15)
    ]


def test_early_warning_counts_leads_and_false_alerts() -> None:
    incidents = [
        # warned 90 min before its breach (the alert came 30 min before onset: allowed)
        LabelledIncident("a", at(120), at(180), at(240)),
        # warned only 15 min before its breach
        LabelledIncident("b", at(300), at(360), at(400)),
        # never warned
        LabelledIncident("c", at(300), at(420), at(450)),
        # under way before the first cycle: not scored
        LabelledIncident("d", at(-60), at(60), at(90)),
        # no breach: not scored, but an alert during it is not false
        LabelledIncident("e", at(500), None, at(560)),
    ]
    events = {
        90: [opened("a", 90)],
        345: [opened("b", 345)],
        30: [opened("d", 30)],
        510: [opened("e", 510)],
        600: [opened("c", 600), opened("a", 600, Level.DEGRADED)],  # degraded is no alert
    }
    found = early_warning(steps(events, 720), incidents, servers=5)
    assert (found.incidents, found.caught, found.caught_30m) == (3, 2, 1)
    assert sorted(found.lead_minutes) == [15.0, 90.0]
    assert found.false_alerts == 1  # c at 600, after its end
    assert found.server_days == pytest.approx(5 * 720 / 1440)
    assert found.false_per_server_day == pytest.approx(1 / 2.5)


def test_calibration_bins_brier_and_ece() -> None:
    probs = [0.05, 0.05, 0.95, 0.95]
    outcomes = [False, True, True, True]
    cal = calibration(probs, outcomes, bins=10)
    assert [(n, p, f) for _, _, n, p, f in cal.rows] == [
        (2, pytest.approx(0.05), 0.5),
        (2, pytest.approx(0.95), 1.0),
    ]
    # Brier: (0.05² + 0.95² + 0.05² + 0.05²) / 4; ECE: ½·|0.05 − 0.5| + ½·|0.95 − 1|
    assert cal.brier == pytest.approx((3 * 0.0025 + 0.9025) / 4)
    assert cal.ece == pytest.approx(0.5 * 0.45 + 0.5 * 0.05)
    assert cal.base_rate == 0.75
