"""Why the drift override did or did not fire on one simulated incident (not a test).

Replays the early-warning bench's fleet (bench/early_warning.py: 45 servers, seed 11, 16 days)
and, for the hours before one incident's breach, prints which targets the override would
replace in the seasonal-naive fallback's forecast and the fit behind it (rising slope,
workload climb unprecedented), once for each number of seasonal days given. Run from the
repository root:

    PYTHONPATH=. python bench/trend_on_incident.py --server pprisk004 --kind cpu_runaway
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from argus.catalogue import TARGETS
from argus.forecast.baseline import SeasonalNaive
from argus.forecast.frame import forward_fill, server_series, to_grid
from argus.forecast.trend import TrendRule, _fit, history_steps, recent_history
from argus.simulate import IncidentRates, simulate_fleet
from argus.simulate.dataset import block_frame

sys.path.insert(0, str(Path(__file__).resolve().parent))
from early_warning import prepare  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", default="pprisk004")
    ap.add_argument("--kind", default="cpu_runaway")
    ap.add_argument("--days", type=int, nargs="+", default=[1, 7], help="seasonal days to try")
    ap.add_argument("--hours", type=float, default=3.0, help="hours before the breach to show")
    args = ap.parse_args()
    sim = simulate_fleet(servers=45, days=16, seed=11, rates=IncidentRates(per_server_day=0.15))
    frame = prepare(block_frame(sim.block))
    grid = to_grid(frame[frame["server_name"] == args.server])
    labels = [i for i in sim.labels.incidents if i.server == args.server and i.kind == args.kind]
    for label in labels:
        if not label.breach:
            continue
        breach = pd.Timestamp(label.breach).tz_convert(None)
        print(f"{args.server} {args.kind}: onset {label.onset}, breach {label.breach}")
        for days in args.days:
            rule = TrendRule(seasonal_days=days)
            for minutes in range(int(args.hours * 60), 0, -20):
                until = grid[grid["timestamp"] <= breach - pd.Timedelta(minutes=minutes)]
                series = server_series(until)
                plain = SeasonalNaive().predict_series(series)
                served = SeasonalNaive(trend=rule).predict_series(series)
                replaced = [
                    t
                    for i, t in enumerate(TARGETS)
                    if not np.array_equal(plain.values[0, i], served.values[0, i])
                ]
                recent = forward_fill(recent_history(series, history_steps(rule)), axis=1)
                fit = _fit(recent, rule)
                flags = {
                    t: ("rising" if fit.rising[0, i] else "-")
                    + (" unprecedented" if fit.unprecedented[0, i] else "")
                    for i, t in enumerate(TARGETS)
                    if t in ("cpu_pct", "mem_pct", "load")
                }
                cpu = float(until["cpu_pct"].iloc[-1])
                print(f"  days {days}  {until['timestamp'].iloc[-1]}  cpu {cpu:5.1f}  "
                      f"replaced {replaced or '-'}  {flags}")


if __name__ == "__main__":
    main()
