"""The cascade detector's thresholds and knobs: one table, echoed by GET /cascade/status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# The seed's tracking.metrics_tracked, plus back_close_wait: a stalled upstream (database,
# conductor) shows first as half-closed back-end sockets on its clients, in none of the five.
TRACKED_METRICS: tuple[str, ...] = (
    "cpu_user_pct",
    "mem_used_pct",
    "cpu_iowait_pct",
    "load_average",
    "swap_used_pct",
    "back_close_wait",
)

Direction = Literal["both", "up"]


@dataclass(frozen=True)
class CascadeSettings:
    """Everything the detector decides with; the defaults are the documented behaviour."""

    correlation: float = 0.7  # the seed's thresholds.correlation
    cascade_servers: int = 3  # the seed's thresholds.cascade_servers
    # The seed shows 2.0; seasonal robust z-scores of real metrics are heavy-tailed (on the ASD
    # training days the 99th percentile of |z| is 4.2), and at 2.0 every third server of a fleet
    # is "anomalous" at any time. 4.0 was chosen on training days only (docs/cascade.md).
    anomaly_z_score: float = 4.0
    window_size: int = 100  # 5-minute steps the correlation and onsets look back over
    cooccurrence_steps: int = 6  # onsets within 30 minutes count together (count rule)
    # Correlation rule: members' anomalies began within 1 h of each other. Two incidents that
    # began hours apart and both persist correlate over the window without one causing the
    # other; a cascade reaches its dependents within minutes (docs/cascade.md).
    onset_spread_steps: int = 12
    baseline_days: int = 6  # same time of day on up to this many previous days
    slot_halfwidth: int = 3  # ... +- 15 minutes around it
    rolling_steps: int = 36  # fallback baseline (3 h) while there is less than a day of history
    smooth_steps: int = 3  # median filter: one odd sample is not an anomaly
    # A high quantile of the day-over-day change, not the MAD: servers whose metrics often
    # jump get a wider scale.
    day_quantile: float = 0.95
    scale_floor: float = 0.02  # smallest scale, as a share of the metric's fleet-wide spread
    direction: Direction = "both"  # "up": only excess usage counts
    remove_common: bool = True  # subtract the peers' median score (routine common moves)
    common_min_servers: int = 6  # below this the fleet median is not a "common" component
    # A profile with this many servers is its servers' peer group (0: the fleet for all): a
    # whole profile leaving its baseline together is its schedule.
    profile_min_servers: int = 4
    link_correlation: float = 0.5  # an earlier anomaly this correlated joins the cascade
    # A group at least half of whose members were anomalous on its metric around the same time
    # 1 or 7 days before is a routine of the schedule (a batch job that does not run at
    # weekends leaves its whole profile "anomalous" at the same minutes), not a cascade.
    recurrence_days: tuple[int, ...] = (1, 7)
    recurrence_share: float = 0.5
    # ... and so is one whose members were off their baselines together (signal >= habit_z,
    # each scored on its own) this many times (0: no check) in the `habit_days` before the
    # window, at any time of day: servers of one service that often move together.
    habit_episodes: int = 2
    habit_days: int = 7
    habit_z: float = 3.0
    # Dependency rule: a server anomalous for min..fresh steps while a server of a profile it
    # depends on has been anomalous since before (not for the whole window) and is at least
    # this far gone (a dependent is hurt when its upstream saturates; 0 fresh steps: no rule).
    dependency_min_steps: int = 2
    dependency_fresh_steps: int = 6
    dependency_upstream_z: float = 10.0
    episode_gap_steps: int = 6  # a cascade that clears for 30 minutes ends its episode
