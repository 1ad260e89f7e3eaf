"""The prediction cycle's forecasting step at 1,000 servers, from the daemon's window (not a test).

Fills a `FleetWindow` with 1,000 servers x 8 days (the default `window_steps`, 2,304 buckets) of
`bench/forecast_speed.py`'s fleet, then times what a cycle does before the risk engine: read the
window's grid (`FleetWindow.grid()`) and serve it (`ServingForecaster.predict`, without a trained
model: the simple forecasters, their combination, bands and the trend rule). The first serve
also has every server learn from its history (the serving layer's start-up, once per server);
it is reported apart, then the median of 3 cycles after it.

Usage: PYTHONPATH=. python bench/window_serving.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from forecast_speed import fleet  # noqa: E402

from argus.forecast.serving import ServingForecaster  # noqa: E402
from argus.window import FleetWindow  # noqa: E402


def main() -> None:
    frame = fleet(1000, 8, seed=1)
    window = FleetWindow(2304)
    stamps = frame["timestamp"].dt.to_pydatetime()
    columns = list(frame.columns)
    window.add(
        {**dict(zip(columns, row, strict=True)), "timestamp": stamps[i]}
        for i, row in enumerate(frame.to_numpy(dtype=object))
    )
    started = time.perf_counter()
    window.grid()  # the first read averages every bucket (start-up)
    first_s = time.perf_counter() - started
    serving = ServingForecaster(None)
    started = time.perf_counter()
    serving.predict(window.grid())
    first_serve_s = time.perf_counter() - started
    reads, serves = [], []
    for _ in range(3):
        started = time.perf_counter()
        grid = window.grid()
        reads.append(time.perf_counter() - started)
        started = time.perf_counter()
        forecast = serving.predict(grid)
        serves.append(time.perf_counter() - started)
    print(
        json.dumps(
            {
                "servers": len(forecast.servers),
                "steps": grid.steps,
                "first_read_s": round(first_s, 2),
                "first_serve_s": round(first_serve_s, 2),
                "read_s_runs": [round(t, 2) for t in reads],
                "serve_s_runs": [round(t, 2) for t in serves],
                "read_and_serve_s_median": round(
                    statistics.median(a + b for a, b in zip(reads, serves, strict=True)), 2
                ),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
