"""The drift override (argus.forecast.trend): when a straight line replaces the model's forecast."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import theilslopes

from argus.catalogue import TARGETS
from argus.forecast.baseline import SeasonalNaive
from argus.forecast.frame import DAY_STEPS, ServerSeries
from argus.forecast.trend import TREND_SUFFIX, TrendRule, apply_trends

DAYS = 3
STEPS = DAYS * DAY_STEPS
MEM = TARGETS.index("mem_pct")
CPU = TARGETS.index("cpu_pct")


def series(name: str, seed: int = 0) -> ServerSeries:
    """Three days of a calm server: a daily cycle and noise on every target."""
    rng = np.random.default_rng(seed)
    k = np.arange(STEPS)
    values = np.empty((STEPS, len(TARGETS)))
    values[:] = [30.0, 60.0, 2.0, 3.0, 1.0, 50.0]
    values += 5 * np.sin(2 * np.pi * k / DAY_STEPS)[:, None] * (np.arange(len(TARGETS)) < 2)
    values += rng.normal(0, 0.3, values.shape)
    return ServerSeries(name, "Database", 1_000_000, values)


def forecast(servers: list[ServerSeries], rule: TrendRule | None):
    return SeasonalNaive(trend=rule).predict_series(servers)


def test_a_steady_memory_climb_is_extrapolated_along_its_line() -> None:
    leak = series("leak")
    slope = 0.5  # % per 5 minutes: exhaustion in under 2 hours
    leak.values[-12:, MEM] += slope * np.arange(1, 13)
    calm = series("calm", seed=1)
    plain, served = forecast([leak, calm], None), forecast([leak, calm], TrendRule())
    assert served.model_of("leak") == "baseline" + TREND_SUFFIX
    assert served.model_of("calm") == "baseline"
    np.testing.assert_array_equal(served.values[1], plain.values[1])
    # the median is the usual level (the median of the same time on the previous days that
    # the three days of history hold: two for the last hour, three for the next two hours)
    # + the Theil-Sen line of the last hour's difference from it, extrapolated
    # (scipy's theilslopes as the independent reference)
    mem = leak.values[:, MEM]
    past = np.median([mem[-12 - d * DAY_STEPS : -d * DAY_STEPS] for d in (1, 2)], axis=0)
    fit = theilslopes(mem[-12:] - past, np.arange(12), method="joint")
    fit_slope, fit_level = fit.slope, fit.intercept
    assert fit_slope == pytest.approx(slope, abs=0.1)
    # ... for 3 hours (TrendRule.accumulate_hold), then held level
    along = 11 + np.minimum(np.arange(1, 97), 36)  # theilslopes: x = 0 at the first point
    line = fit_level + fit_slope * along
    usual = np.median([mem[STEPS - d * DAY_STEPS + np.arange(96)] for d in (1, 2, 3)], axis=0)
    expected = np.minimum(usual + line, 100.0)
    np.testing.assert_allclose(served.median("leak", "mem_pct"), expected, atol=1e-9)
    steep = series("steep")
    steep.values[-12:, MEM] += 1.5 * np.arange(1, 13)
    assert forecast([steep], TrendRule()).median("steep", "mem_pct")[-1] == 100.0  # clipped
    # the band widens with the horizon (slope uncertainty)
    q10, q90 = served.quantile_index(0.1), served.quantile_index(0.9)
    band = served.values[0, MEM, :, q90] - served.values[0, MEM, :, q10]
    assert band[5] < band[20]
    # the other targets keep the model's forecast
    np.testing.assert_array_equal(served.values[0, CPU], plain.values[0, CPU])


def test_no_override_without_a_significant_unusual_rise() -> None:
    servers = [series(f"calm{i}", seed=i) for i in range(5)]
    falling = series("falling")
    falling.values[-12:, MEM] -= 0.5 * np.arange(1, 13)  # a recovery is left to the model
    cpu = series("busy")
    cpu.values[-12:, CPU] += 3.0 * np.arange(1, 13)
    # ... a climb like one the server had 10 hours earlier, to a level it then held for an
    # hour, is workload, not a runaway
    cpu.values[-132:-120, CPU] += 3.2 * np.arange(1, 13)
    cpu.values[-120:-108, CPU] += 3.2 * 12
    daily = series("daily")
    ramp = 0.5 * np.arange(1, 13)  # the same climb at this hour every day is the daily pattern
    for day in range(DAYS):
        end = STEPS - day * DAY_STEPS
        daily.values[end - 12 : end, MEM] += ramp
    everyone = [*servers, falling, cpu, daily]
    served = forecast(everyone, TrendRule())
    assert served.models == ("baseline",) * len(everyone)
    np.testing.assert_array_equal(served.values, forecast(everyone, None).values)


def test_a_step_to_a_new_level_is_not_extrapolated() -> None:
    # A job that starts: memory steps up by 30 points in one bucket on top of a climb that
    # alone would be a leak. Most of the hour's rise is that one step: a new level, not a ramp.
    job = series("job")
    job.values[-12:, MEM] += 0.6 * np.arange(1, 13)
    job.values[-6:, MEM] += 30.0
    assert forecast([job], TrendRule()).model_of("job") == "baseline"
    # the same series is extrapolated by a rule that lets any step through
    lax = TrendRule(step_share=float("inf"))
    assert forecast([job], lax).model_of("job") == "baseline" + TREND_SUFFIX
    # ... and the climb without the step is
    leak = series("leak")
    leak.values[-12:, MEM] += 0.6 * np.arange(1, 13)
    assert forecast([leak], TrendRule()).model_of("leak") == "baseline" + TREND_SUFFIX


def test_a_climb_the_model_already_forecasts_is_left_alone() -> None:
    leak = series("leak")
    leak.values[-12:, MEM] += 0.5 * np.arange(1, 13)
    served = forecast([leak], TrendRule())
    assert served.model_of("leak").endswith(TREND_SUFFIX)
    # a model whose upper band already covers the line keeps its forecast
    high = served.values.copy()
    high[0, MEM, :, :] = 100.0
    from argus.forecast.base import ForecastSet

    model = ForecastSet(
        served.servers, served.targets, served.quantiles, served.timestamps, high, ("tft:x",)
    )
    assert apply_trends(model, [leak], TrendRule()) is model


@pytest.mark.parametrize("steps", [5, 40])
def test_short_histories_are_served_without_errors(steps: int) -> None:
    short = series("short")
    short = ServerSeries("short", "Database", short.start, short.values[-steps:])
    served = forecast([short], TrendRule())
    assert served.values.shape[0] == 1 and np.isfinite(served.values).all()


def test_a_workload_climb_steeper_than_any_of_the_reference_day_is_extrapolated() -> None:
    runaway = series("runaway")
    runaway.values[-12:, CPU] += 3.0 * np.arange(1, 13)  # 30 % -> 66 % in an hour, never seen
    served = forecast([runaway], TrendRule())
    assert served.model_of("runaway").endswith(TREND_SUFFIX)
    assert served.median("runaway", "cpu_pct")[12] > 95  # saturation within the next hour
    # without a reference day (3 h of history) a workload climb is not extrapolated
    short = ServerSeries("runaway", "Database", runaway.start, runaway.values[-36:])
    assert forecast([short], TrendRule()).model_of("runaway") == "baseline"


def test_a_workload_climb_past_the_highest_of_the_past_days_is_extrapolated() -> None:
    # An ML server with a steep burst to 78 % every evening, held for half an hour: today's
    # slower climb is no steeper than those, but it carries CPU past anything of the past days.
    runaway = series("runaway")
    for day in range(1, DAYS):
        end = STEPS - day * DAY_STEPS - 60
        runaway.values[end - 12 : end - 6, CPU] += 8.0 * np.arange(1, 7)
        runaway.values[end - 6 : end, CPU] += 48.0
    within = ServerSeries("within", "Database", runaway.start, runaway.values.copy())
    climb = 2.5 * np.arange(1, 13)  # the same slope on both
    runaway.values[-24:-12, CPU] += climb  # two hours of it: 30 % -> 60 % -> 90 %
    runaway.values[-12:, CPU] += 30 + climb
    within.values[-12:, CPU] += climb  # one hour: 30 % -> 60 %, within its usual range
    served = forecast([runaway, within], TrendRule())
    assert served.model_of("runaway").endswith(TREND_SUFFIX)
    assert served.median("runaway", "cpu_pct")[6] > 95
    assert served.model_of("within") == "baseline"


def test_a_monday_morning_ramp_after_a_quiet_weekend_is_no_drift() -> None:
    week = 8 * DAY_STEPS
    rng = np.random.default_rng(3)
    values = np.tile([30.0, 60.0, 2.0, 3.0, 1.0, 50.0], (week, 1)) + rng.normal(0, 0.3, (week, 6))
    ramp = 0.5 * np.arange(1, 13)
    for day in range(8):  # days 0-4 and 7 are working days (7 is today), 5 and 6 the weekend
        end = (day + 1) * DAY_STEPS
        if day not in (5, 6):
            values[end - 12 : end, MEM] += ramp
    monday = ServerSeries("monday", "Database", 2_000_000, values)
    assert forecast([monday], TrendRule()).model_of("monday") == "baseline"
    # measured against yesterday (a Sunday) alone, the same ramp looks like a climb
    yesterday_only = forecast([monday], TrendRule(seasonal_days=1))
    assert yesterday_only.model_of("monday") == "baseline" + TREND_SUFFIX
